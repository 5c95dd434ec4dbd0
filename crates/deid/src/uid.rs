//! New UIDs for a share: `2.25.<decimal UUID>` from HMAC-SHA256 of the old UID.

use dicom_core::Tag;

use crate::profile::ShareKeys;

/// UIDs the standard defines (SOP classes, transfer syntaxes, coding schemes…).
pub fn is_well_known(uid: &str) -> bool {
    uid.starts_with("1.2.840.10008.")
}

/// Attributes whose UIDs name a class or scheme, not an instance: kept as they
/// are even when a vendor uses its own root.
pub const CLASS_UID_TAGS: &[Tag] = &[
    Tag(0x0002, 0x0002), // Media Storage SOP Class UID
    Tag(0x0002, 0x0010), // Transfer Syntax UID
    Tag(0x0002, 0x0012), // Implementation Class UID
    Tag(0x0004, 0x1510), // Referenced SOP Class UID in File
    Tag(0x0004, 0x1512), // Referenced Transfer Syntax UID in File
    Tag(0x0008, 0x0016), // SOP Class UID
    Tag(0x0008, 0x010C), // Coding Scheme UID
    Tag(0x0008, 0x010D), // Context Group Extension Creator UID
    Tag(0x0008, 0x0118), // Mapping Resource UID
    Tag(0x0008, 0x1150), // Referenced SOP Class UID
    Tag(0x0008, 0x1162), // Referenced Related General SOP Class UID
    Tag(0x0008, 0x001A), // Related General SOP Class UID
    Tag(0x0008, 0x001B), // Original Specialized SOP Class UID
];

#[derive(Clone, Debug)]
pub struct UidMapper {
    keys: ShareKeys,
}

impl UidMapper {
    pub fn new(keys: &ShareKeys) -> Self {
        UidMapper { keys: keys.clone() }
    }

    /// The share's replacement for `uid`; standard UIDs come back unchanged.
    pub fn map(&self, uid: &str) -> String {
        let uid = uid.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        if uid.is_empty() || is_well_known(uid) {
            return uid.to_string();
        }
        let h = self.keys.derive("uid", uid.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        // RFC 9562 version 8 (custom) and variant bits, so 2.25 holds a valid UUID.
        b[6] = (b[6] & 0x0F) | 0x80;
        b[8] = (b[8] & 0x3F) | 0x80;
        format!("2.25.{}", u128::from_be_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_share_same_uid_other_share_other_uid() {
        let a = UidMapper::new(&ShareKeys::from_secret([1; 32]));
        let b = UidMapper::new(&ShareKeys::from_secret([2; 32]));
        let u = "1.2.3.4.5.6.7";
        assert_eq!(a.map(u), a.map(u));
        assert_eq!(a.map(u), a.map("1.2.3.4.5.6.7\0"));
        assert_ne!(a.map(u), b.map(u));
        assert_ne!(a.map(u), a.map("1.2.3.4.5.6.8"));
        assert!(a.map(u).starts_with("2.25.") && a.map(u).len() <= 64);
        assert_eq!(a.map("1.2.840.10008.5.1.4.1.1.2"), "1.2.840.10008.5.1.4.1.1.2");
    }
}
