//! Patient contacts as entered on the imaging device.
//!
//! Devices put phone numbers in Patient's Telephone Numbers (0010,2154) and,
//! newer ones, phones and emails in Patient's Telecom Information (0010,2155);
//! reception staff often type an email into Patient Comments (0010,4000). We
//! keep what looks like a phone or an email, as typed; normalising a phone needs
//! the clinic's country code and happens in the send dialog.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use studylink_model::{Contact, ContactKind};

/// Tags scanned by default. Phones are taken only from the telephone and telecom
/// tags; emails from all of them.
pub const DEFAULT_CONTACT_TAGS: &[Tag] = &[
    tags::PATIENT_TELEPHONE_NUMBERS,
    tags::PATIENT_TELECOM_INFORMATION,
    tags::PATIENT_COMMENTS,
];

const PHONE_TAGS: &[Tag] = &[tags::PATIENT_TELEPHONE_NUMBERS, tags::PATIENT_TELECOM_INFORMATION];

/// Extracts contacts from `(tag, text)` pairs, deduplicated, in order of appearance.
pub fn extract_contacts(values: &[(Tag, String)]) -> Vec<Contact> {
    let mut out: Vec<Contact> = Vec::new();
    let mut push = |kind: ContactKind, value: String, tag: Tag| {
        let source_tag = format!("{:04X}{:04X}", tag.0, tag.1);
        let dup = out.iter().any(|c| {
            c.kind == kind
                && match kind {
                    ContactKind::Email => c.value.eq_ignore_ascii_case(&value),
                    ContactKind::Phone => digits(&c.value) == digits(&value),
                }
        });
        if !dup {
            out.push(Contact { kind, value, source_tag });
        }
    };
    for (tag, text) in values {
        let mut rest = text.clone();
        for email in find_emails(text) {
            rest = rest.replace(&email, " ");
            push(ContactKind::Email, email, *tag);
        }
        if PHONE_TAGS.contains(tag) {
            for phone in find_phones(&rest) {
                push(ContactKind::Phone, phone, *tag);
            }
        }
    }
    out
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

fn is_email_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

/// Finds `local@domain.tld` runs. Deliberately simple: the send dialog
/// validates properly; here we only must not miss or mangle a typed address.
pub fn find_emails(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != '@' {
            continue;
        }
        let mut start = i;
        while start > 0 && is_email_char(chars[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < chars.len() && (is_email_char(chars[end])) {
            end += 1;
        }
        let local: String = chars[start..i].iter().collect();
        let domain: String = chars[i + 1..end].iter().collect();
        let domain = domain.trim_end_matches(['.', '-']).to_string();
        let ok_domain = domain.contains('.')
            && domain.split('.').all(|p| !p.is_empty())
            && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        let local = local.trim_start_matches('.').to_string();
        if !local.is_empty() && ok_domain {
            found.push(format!("{local}@{}", domain.to_ascii_lowercase()));
        }
    }
    found
}

/// Splits on DICOM's value separator and common list separators, keeping runs
/// of phone characters that hold 6–15 digits (E.164 allows at most 15).
pub fn find_phones(text: &str) -> Vec<String> {
    text.split(['\\', ',', ';', '/', '\n', '\r', '|'])
        .flat_map(|part| {
            // A part may still carry a label ("Tel: +34 612…"); take the phone-ish tail runs.
            let mut runs = Vec::new();
            let mut cur = String::new();
            for c in part.chars() {
                if c.is_ascii_digit() || " +-().".contains(c) {
                    cur.push(c);
                } else {
                    runs.push(std::mem::take(&mut cur));
                }
            }
            runs.push(cur);
            runs
        })
        .map(|r| r.trim().trim_matches(['-', '.', ')', '(']).trim().to_string())
        .filter(|r| {
            let n = digits(r).len();
            (6..=15).contains(&n) && !r.starts_with('-')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(v: &[Contact]) -> Vec<(ContactKind, &str)> {
        v.iter().map(|c| (c.kind, c.value.as_str())).collect()
    }

    #[test]
    fn phones_from_telephone_numbers_multivalue() {
        let got = extract_contacts(&[(tags::PATIENT_TELEPHONE_NUMBERS, "612 345 678\\+34 (91) 555-1234".into())]);
        assert_eq!(kinds(&got), vec![(ContactKind::Phone, "612 345 678"), (ContactKind::Phone, "+34 (91) 555-1234")]);
        assert_eq!(got[0].source_tag, "00102154");
    }

    #[test]
    fn telecom_information_holds_both() {
        let got = extract_contacts(&[(
            tags::PATIENT_TELECOM_INFORMATION,
            "Tel: +34 612 345 678; email Ana.Garcia@Example.ORG".into(),
        )]);
        assert_eq!(
            kinds(&got),
            vec![(ContactKind::Email, "Ana.Garcia@example.org"), (ContactKind::Phone, "+34 612 345 678")]
        );
    }

    #[test]
    fn comments_give_emails_but_not_phones() {
        let got = extract_contacts(&[(tags::PATIENT_COMMENTS, "call 612345678, mail ana@clinic.es.".into())]);
        assert_eq!(kinds(&got), vec![(ContactKind::Email, "ana@clinic.es")]);
    }

    #[test]
    fn duplicates_are_merged_across_tags() {
        let got = extract_contacts(&[
            (tags::PATIENT_TELEPHONE_NUMBERS, "612-345-678".into()),
            (tags::PATIENT_TELECOM_INFORMATION, "612 345 678 ana@x.org".into()),
            (tags::PATIENT_COMMENTS, "ANA@X.ORG".into()),
        ]);
        assert_eq!(kinds(&got), vec![(ContactKind::Phone, "612-345-678"), (ContactKind::Email, "ana@x.org")]);
    }

    #[test]
    fn not_contacts() {
        assert!(extract_contacts(&[(tags::PATIENT_TELEPHONE_NUMBERS, "n/a".into())]).is_empty());
        assert!(extract_contacts(&[(tags::PATIENT_TELEPHONE_NUMBERS, "12345".into())]).is_empty());
        assert!(find_emails("user@localhost and @example.org and a@b.c1").is_empty());
    }
}
