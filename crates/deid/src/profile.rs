//! What a clinic chooses (the profile and its options) and what a share owns (its keys).

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::hmac::hmac_sha256;

/// Retain Longitudinal Temporal Information.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOption {
    /// Basic profile: dates and times are removed or emptied.
    #[default]
    Remove,
    /// Full Dates option: dates and times are kept.
    Full,
    /// Modified Dates option: dates are shifted by the share's offset.
    Shift,
}

/// The de-identification profile. `Default` is the Basic Application Level
/// Confidentiality Profile with no options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub retain_dates: DateOption,
    pub retain_patient_characteristics: bool,
    pub retain_device_identity: bool,
    pub clean_descriptors: bool,
    /// Keep private attributes, but only those on the explicit safe list.
    pub retain_safe_private: bool,
}

impl Profile {
    /// Names of the options in force, for reports.
    pub fn option_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        match self.retain_dates {
            DateOption::Remove => {}
            DateOption::Full => v.push("retain_longitudinal_full_dates"),
            DateOption::Shift => v.push("retain_longitudinal_modified_dates"),
        }
        if self.retain_patient_characteristics {
            v.push("retain_patient_characteristics");
        }
        if self.retain_device_identity {
            v.push("retain_device_identity");
        }
        if self.clean_descriptors {
            v.push("clean_descriptors");
        }
        if self.retain_safe_private {
            v.push("retain_safe_private");
        }
        v
    }
}

/// The secrets of one share: every UID and pseudonym of the share derives from
/// `secret`, so they are consistent across the share's files and can't be
/// reversed or linked to another share.
#[derive(Clone)]
pub struct ShareKeys {
    secret: [u8; 32],
    date_shift_days: i32,
}

impl std::fmt::Debug for ShareKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareKeys").finish_non_exhaustive()
    }
}

impl ShareKeys {
    pub fn random() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self::from_secret(secret)
    }

    /// Keys from a stored secret. The date shift derives from it too: between
    /// 30 days and about 10 years into the past, never zero.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let h = hmac_sha256(&secret, b"studylink-deid date shift");
        let n = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let date_shift_days = -(30 + (n % 3621) as i32);
        ShareKeys { secret, date_shift_days }
    }

    /// Overrides the derived date shift (e.g. a clinic's stored offset).
    pub fn with_date_shift(mut self, days: i32) -> Self {
        self.date_shift_days = days;
        self
    }

    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    pub fn date_shift_days(&self) -> i32 {
        self.date_shift_days
    }

    /// A keyed digest of `parts`, domain-separated by `purpose`.
    pub(crate) fn derive(&self, purpose: &str, value: &[u8]) -> [u8; 32] {
        let mut msg = Vec::with_capacity(purpose.len() + 1 + value.len());
        msg.extend_from_slice(purpose.as_bytes());
        msg.push(0);
        msg.extend_from_slice(value);
        hmac_sha256(&self.secret, &msg)
    }
}
