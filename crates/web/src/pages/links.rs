//! URLs of the study pages and of the DICOMweb rendered images they show.
//! UIDs are digits and dots by the standard, but devices send what they send:
//! every path segment is percent-encoded.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but unreserved characters (RFC 3986) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_').remove(b'~');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

pub fn study_page(study: &str) -> String {
    format!("/studies/{}", seg(study))
}

pub fn send_page(study: &str) -> String {
    format!("/studies/{}/send", seg(study))
}

pub fn send_create(study: &str) -> String {
    format!("/studies/{}/send/create", seg(study))
}

/// A share's status page (progress, then per-channel delivery).
pub fn share_page(study: &str, share: i64) -> String {
    format!("/studies/{}/shares/{share}", seg(study))
}

/// `resend` or `revoke`.
pub fn share_action(study: &str, share: i64, action: &str) -> String {
    format!("/studies/{}/shares/{share}/{action}", seg(study))
}

/// `/dicomweb/studies/{s}/series/{se}/instances/{i}`: the viewer appends
/// `/rendered`, `/thumbnail` or `/frames/{n}/rendered`, and `/metadata` for the frame rate.
pub fn instance(study: &str, series: &str, sop: &str) -> String {
    format!("/dicomweb/studies/{}/series/{}/instances/{}", seg(study), seg(series), seg(sop))
}

pub fn thumbnail(study: &str, series: &str, sop: &str) -> String {
    format!("{}/thumbnail", instance(study, series, sop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(study_page("1.2.840.1"), "/studies/1.2.840.1");
        assert_eq!(study_page("1.2/../x?y"), "/studies/1.2%2F..%2Fx%3Fy");
        assert_eq!(thumbnail("1.2", "1.2.3", "1.2.3.4"), "/dicomweb/studies/1.2/series/1.2.3/instances/1.2.3.4/thumbnail");
    }
}
