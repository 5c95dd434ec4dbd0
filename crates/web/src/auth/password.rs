//! Staff passwords: argon2id (the crate's default parameters, m=19 MiB, t=2)
//! stored as PHC strings, so parameters can be raised later without a migration.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::{Rng, RngCore};

/// Shortest password a person may choose (generated ones are longer).
pub const MIN_PASSWORD_LEN: usize = 12;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

/// False for a wrong password and for an unparsable hash alike.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Verifies against a throwaway hash so that "no such user" costs as much time
/// as "wrong password" and the two can't be told apart.
pub fn dummy_verify(password: &str) {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_password("studylink-dummy-password").expect("argon2 works"));
    let _ = verify_password(password, &DUMMY);
}

/// Whether a person-chosen password is acceptable; `None` when fine, else the
/// message id explaining why.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        Some("password-too-short")
    } else if password.len() > 1024 {
        Some("password-too-long")
    } else {
        None
    }
}

/// A generated password: four groups of five characters from an alphabet
/// without look-alikes (no 0/O, 1/l/I), e.g. `k7Rfq-2mZpx-…`: easy to read out
/// and type, ~114 bits of entropy.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng(); // ChaCha, seeded from the OS: a CSPRNG.
    let groups: Vec<String> = (0..4)
        .map(|_| (0..5).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect())
        .collect();
    groups.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn generated_passwords() {
        let p = generate_password();
        assert_eq!(p.len(), 23);
        assert!(p.len() >= 16 && password_problem(&p).is_none());
        assert_ne!(p, generate_password());
        assert!(!p.contains(['0', 'O', '1', 'l', 'I']));
    }

    #[test]
    fn length_rule() {
        assert_eq!(password_problem("short"), Some("password-too-short"));
        assert_eq!(password_problem("twelve chars"), None);
        assert_eq!(password_problem("ñandú-ñandú-"), None, "counts characters, not bytes");
    }
}
