//! Retain Safe Private: private attributes kept only from an explicit list of
//! (private creator, group, element) whose values are known to be numeric
//! acquisition parameters (after PS3.15 Table E.3.10-1).

use std::collections::{HashMap, HashSet};

use dicom_core::header::Header;
use dicom_core::{Tag, VR};
use dicom_object::mem::InMemDicomObject;

/// (creator, group, element byte within the block)
const SAFE_PRIVATE: &[(&str, u16, u8)] = &[
    ("SIEMENS MR HEADER", 0x0019, 0x0C), // B_value
    ("SIEMENS MR HEADER", 0x0019, 0x0D), // DiffusionDirectionality
    ("SIEMENS MR HEADER", 0x0019, 0x0E), // DiffusionGradientDirection
    ("SIEMENS MR HEADER", 0x0019, 0x27), // B_matrix
    ("GEMS_PARM_01", 0x0043, 0x39),      // slop_int_6..9 (b-value)
    ("GEMS_ACQU_01", 0x0019, 0xBB),      // user data (diffusion direction)
    ("GEMS_ACQU_01", 0x0019, 0xBC),
    ("GEMS_ACQU_01", 0x0019, 0xBD),
    ("Philips Imaging DD 001", 0x2001, 0x03), // diffusion b-factor
    ("Philips MR Imaging DD 001", 0x2005, 0xB0), // diffusion direction RL
    ("Philips MR Imaging DD 001", 0x2005, 0xB1), // diffusion direction AP
    ("Philips MR Imaging DD 001", 0x2005, 0xB2), // diffusion direction FH
];

pub struct SafePrivate;

impl SafePrivate {
    /// The private tags of `obj` (this level only) to keep, creators included.
    pub fn select(obj: &InMemDicomObject) -> HashSet<Tag> {
        let mut creators: HashMap<(u16, u16), (Tag, String)> = HashMap::new();
        for e in obj {
            let t = e.tag();
            if t.0 % 2 == 1 && (0x0010..=0x00FF).contains(&t.1)
                && let Ok(s) = e.to_str()
            {
                creators.insert((t.0, t.1), (t, s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string()));
            }
        }
        let mut keep = HashSet::new();
        for e in obj {
            let t = e.tag();
            if t.0 % 2 == 0 || t.1 < 0x1000 {
                continue;
            }
            let numeric = matches!(e.vr(), VR::US | VR::SS | VR::UL | VR::SL | VR::FL | VR::FD | VR::DS | VR::IS);
            if let Some((ctag, creator)) = creators.get(&(t.0, t.1 >> 8))
                && numeric
                && SAFE_PRIVATE.iter().any(|(c, g, el)| c == creator && *g == t.0 && *el == (t.1 & 0xFF) as u8)
            {
                keep.insert(t);
                keep.insert(*ctag);
            }
        }
        keep
    }
}
