//! Link tokens. A token is `base64url(HMAC-SHA256(link key, seed))` for 32
//! random bytes of seed stored with the share: 256 bits a guesser can't
//! enumerate, looked up by its SHA-256, and rebuilt by the server (never by
//! a database dump alone) when staff resend the same link.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Length of a token: 32 bytes in unpadded base64url.
pub const TOKEN_LEN: usize = 43;

/// The link token for a share's seed.
pub fn token_for(link_key: &[u8; 32], seed: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(hmac_sha256(link_key, seed))
}

/// SHA-256 (hex) of a token as it arrives in `/p/{token}`: the lookup key.
/// A plain digest is enough: the token already has 256 bits of entropy, so
/// there is nothing for a slow hash to protect.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Cheap shape check before touching the database: 43 base64url characters.
pub fn looks_like_token(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// HMAC-SHA256 (RFC 2104) over the workspace's sha2: the `hmac` crate in the
/// lock file is built on a newer `digest` than our sha2, and this is a dozen lines.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn token_is_43_url_safe_characters_and_deterministic() {
        let key = [7u8; 32];
        let t = token_for(&key, &[1u8; 32]);
        assert_eq!(t.len(), 43);
        assert!(looks_like_token(&t), "{t}");
        assert_eq!(
            t,
            token_for(&key, &[1u8; 32]),
            "a resend rebuilds the same link"
        );
        assert_ne!(t, token_for(&key, &[2u8; 32]), "another seed, another link");
        assert_ne!(
            t,
            token_for(&[8u8; 32], &[1u8; 32]),
            "another server key, another link"
        );
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&t).unwrap(),
            hmac_sha256(&key, &[1u8; 32])
        );
    }

    #[test]
    fn hash_is_hex_sha256_of_the_token_text() {
        // sha256("abc")
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let t = token_for(&[0u8; 32], b"seed");
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), t);
    }

    #[test]
    fn shape_check() {
        assert!(looks_like_token(&"a".repeat(43)));
        assert!(looks_like_token(
            "AZaz09-_AZaz09-_AZaz09-_AZaz09-_AZaz09-_abc"
        ));
        assert!(!looks_like_token(&"a".repeat(42)));
        assert!(!looks_like_token(&"a".repeat(44)));
        assert!(!looks_like_token(""));
        assert!(!looks_like_token(&format!("{}=", "a".repeat(42))));
        assert!(!looks_like_token(&format!("{}+", "a".repeat(42))));
        assert!(!looks_like_token(&format!("{}/", "a".repeat(42))));
        // 43 bytes but not 43 ASCII characters.
        assert!(!looks_like_token(&format!("{}é", "a".repeat(41))));
    }
}
