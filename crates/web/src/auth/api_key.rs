//! Per-clinic API keys for integrations (DICOMweb clients, scripts):
//! `slk_<prefix8>_<secret>`. The prefix is stored in clear so staff can tell keys
//! apart in lists; only the SHA-256 of the whole key is stored.

use rand::Rng;
use studylink_model::{AccountId, ApiKey};
use studylink_store::Store;

use super::token::{ct_eq, random_token, token_hash};

const KEY_PREFIX: &str = "slk_";

/// Creates a key for `account` and returns it in full: this is the only time
/// it exists in clear, so show it once and never log it.
pub async fn create_api_key(store: &dyn Store, account: AccountId, name: &str) -> anyhow::Result<String> {
    Ok(create_api_key_row(store, account, name).await?.0)
}

/// Like [`create_api_key`], also returning the stored row (for the audit log).
pub(crate) async fn create_api_key_row(
    store: &dyn Store,
    account: AccountId,
    name: &str,
) -> Result<(String, ApiKey), studylink_store::StoreError> {
    let (key, prefix) = new_key();
    let row = store.create_api_key(account, name.trim(), &prefix, &token_hash(&key)).await?;
    Ok((key, row))
}

/// A fresh key and its display prefix. The prefix uses lower-case hex so the
/// `_` separators stay unambiguous (the base64url secret may contain `_`).
fn new_key() -> (String, String) {
    let mut rng = rand::rng();
    let prefix: String = (0..8).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap()).collect();
    let key = format!("{KEY_PREFIX}{prefix}_{}", random_token());
    (key, prefix)
}

/// The display prefix of a well-formed key.
fn key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (prefix, secret) = rest.split_at_checked(8)?;
    let secret = secret.strip_prefix('_')?;
    let well_formed = prefix.bytes().all(|b| b.is_ascii_hexdigit())
        && secret.len() == 43
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(prefix)
}

/// The unrevoked key a bearer token names, if any.
pub async fn find_api_key(store: &dyn Store, key: &str) -> Result<Option<ApiKey>, studylink_store::StoreError> {
    let Some(prefix) = key_prefix(key) else {
        return Ok(None);
    };
    let hash = token_hash(key);
    let found = store.api_key_by_hash(&hash).await?;
    // The lookup is by hash already; re-check in constant time so a store that
    // matched loosely (or a revoked row) can never authenticate.
    Ok(found.filter(|k| ct_eq(&k.key_hash, &hash) && k.prefix == prefix && k.revoked_at.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_format() {
        for _ in 0..50 {
            let (key, prefix) = new_key();
            assert!(key.starts_with("slk_"));
            assert_eq!(key.len(), 4 + 8 + 1 + 43);
            assert_eq!(key_prefix(&key), Some(prefix.as_str()));
        }
        assert_eq!(key_prefix("slk_zzzzzzzz_abc"), None);
        assert_eq!(key_prefix("Bearer x"), None);
        assert_eq!(key_prefix("slk_"), None);
    }
}
