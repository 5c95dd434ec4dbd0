//! Phone numbers: what staff type, in the clinic's country unless it says
//! otherwise, normalised to E.164 with libphonenumber's metadata.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber, Type};
use serde::{Deserialize, Serialize};

/// The clinic's country, for numbers typed without `+` or `00`. Parsed from an
/// ISO 3166 region ("ES", "us") or a calling code ("+34", "34", "0034").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(Id);

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.region()
    }
}

impl CountryCode {
    pub const SPAIN: CountryCode = CountryCode(Id::ES);
    pub const US: CountryCode = CountryCode(Id::US);

    /// The ISO 3166 region, e.g. "ES".
    pub fn region(self) -> String {
        self.0.as_ref().to_owned()
    }

    /// The calling code, e.g. 34.
    pub fn calling_code(self) -> u16 {
        phonenumber::metadata::DATABASE
            .by_id(self.0.as_ref())
            .map(|m| m.country_code())
            .unwrap_or(0)
    }
}

impl FromStr for CountryCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let digits = s.trim_start_matches('+').trim_start_matches("00");
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let code: u16 = digits
                .parse()
                .map_err(|_| format!("bad calling code {s:?}"))?;
            // A code shared by several regions (+1) maps to its main one (US), as
            // libphonenumber lists it first.
            let region = phonenumber::metadata::DATABASE
                .region(&code)
                .and_then(|r| r.first().map(|r| r.to_string()))
                .ok_or_else(|| format!("unknown calling code +{code}"))?;
            return Id::from_str(&region)
                .map(CountryCode)
                .map_err(|_| format!("unknown calling code +{code}"));
        }
        Id::from_str(&s.to_ascii_uppercase())
            .map(CountryCode)
            .map_err(|_| {
                format!("unknown country {s:?}: use a region like ES or a calling code like +34")
            })
    }
}

/// A phone number in E.164 form ("+34612345678"), known valid for its country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164Phone(String);

/// Why a token is not a phone number; the caller reports the token itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotAPhone;

impl E164Phone {
    /// Parses what a person typed: spaces, dashes, dots, slashes and
    /// parentheses are ignored; `+` or `00` starts an international number,
    /// anything else is national to `country`.
    pub fn parse(input: &str, country: CountryCode) -> Result<E164Phone, ContactPhoneError> {
        Self::parse_inner(input, country).map_err(|_| ContactPhoneError)
    }

    pub(crate) fn parse_inner(input: &str, country: CountryCode) -> Result<E164Phone, NotAPhone> {
        let cleaned = clean(input).ok_or(NotAPhone)?;
        let number = phonenumber::parse(Some(country.0), &cleaned).map_err(|_| NotAPhone)?;
        if !phonenumber::is_valid(&number) || number.extension().is_some() {
            return Err(NotAPhone);
        }
        Ok(E164Phone(number.format().mode(Mode::E164).to_string()))
    }

    /// Re-reads a stored E.164 string, e.g. from the outbox.
    pub fn from_e164(s: &str) -> Option<E164Phone> {
        if !s.starts_with('+') {
            return None;
        }
        Self::parse_inner(s, CountryCode::US)
            .ok()
            .filter(|p| p.0 == s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn number(&self) -> PhoneNumber {
        phonenumber::parse(None, &self.0).expect("an E164Phone always parses")
    }

    /// The calling code, e.g. 34.
    pub fn calling_code(&self) -> u16 {
        self.number().code().value()
    }

    /// Whether SMS can reach it: mobiles, and numbers whose type can't be told
    /// from the digits (US, Canada).
    pub fn may_receive_sms(&self) -> bool {
        let n = self.number();
        matches!(
            n.number_type(&phonenumber::metadata::DATABASE),
            Type::Mobile
                | Type::FixedLineOrMobile
                | Type::PersonalNumber
                | Type::Voip
                | Type::Unknown
        )
    }

    /// The international format people read, e.g. "+34 612 345 678", "+1 415-555-2671".
    pub fn display(&self) -> String {
        let national = &self.0[1 + self.calling_code().to_string().len()..];
        // libphonenumber writes Spanish mobiles as 612 34 56 78; in Spain they
        // are written and read aloud in threes.
        if self.0.starts_with("+34") && national.len() == 9 && national.starts_with(['6', '7']) {
            return format!(
                "+34 {} {} {}",
                &national[..3],
                &national[3..6],
                &national[6..]
            );
        }
        self.number().format().mode(Mode::International).to_string()
    }

    /// For staff lists: the calling code and the last three digits, "+34 ••• ••• 678".
    pub fn mask(&self) -> String {
        let cc = self.calling_code().to_string();
        let national = &self.0[1 + cc.len()..];
        let shown = national.len().min(3);
        let hidden = national.len() - shown;
        let mut groups = Vec::new();
        let mut left = hidden;
        while left > 0 {
            // A group of one would read oddly; fold it into the previous one.
            let take = if left <= 4 { left } else { 3 };
            groups.push("•".repeat(take));
            left -= take;
        }
        groups.push(national[hidden..].to_owned());
        format!("+{cc} {}", groups.join(" "))
    }
}

/// Only digits once separators are dropped, with `00` read as `+`.
fn clean(input: &str) -> Option<String> {
    let s = input.trim();
    let s = s.strip_prefix("tel:").unwrap_or(s).trim();
    let mut plus = false;
    let mut digits = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            // "(+34) 612…": a + before any digit starts an international number.
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '\u{a0}' | '\t' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return None,
        }
    }
    if digits.len() < 4 || digits.len() > 17 {
        return None;
    }
    if plus {
        return Some(format!("+{digits}"));
    }
    if let Some(intl) = digits.strip_prefix("00") {
        return Some(format!("+{intl}"));
    }
    Some(digits)
}

impl fmt::Display for E164Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<E164Phone> for String {
    fn from(p: E164Phone) -> String {
        p.0
    }
}

impl TryFrom<String> for E164Phone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        E164Phone::from_e164(&s).ok_or_else(|| "not an E.164 phone number".to_owned())
    }
}

/// A phone number that [`E164Phone::parse`] rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid phone number")]
pub struct ContactPhoneError;

#[cfg(test)]
mod tests {
    use super::*;

    fn es(s: &str) -> Option<String> {
        E164Phone::parse(s, CountryCode::SPAIN).ok().map(|p| p.0)
    }

    #[test]
    fn spanish_numbers_in_the_forms_people_type() {
        for input in [
            "612 345 678",
            "612345678",
            "612-345-678",
            "612.345.678",
            "+34612345678",
            "+34 612 345 678",
            "0034 612-345-678",
            "0034612345678",
            "(+34) 612 34 56 78",
            " tel:+34-612-345-678 ",
            "612\u{a0}345\u{a0}678",
        ] {
            assert_eq!(es(input).as_deref(), Some("+34612345678"), "{input:?}");
        }
        // A Madrid landline is a valid number too (may_receive_sms says no).
        let landline = E164Phone::parse("91 123 45 67", CountryCode::SPAIN).unwrap();
        assert_eq!(landline.as_str(), "+34911234567");
        assert!(!landline.may_receive_sms());
        assert!(
            E164Phone::parse("612345678", CountryCode::SPAIN)
                .unwrap()
                .may_receive_sms()
        );
    }

    #[test]
    fn other_countries() {
        let us = E164Phone::parse("(415) 555-2671", CountryCode::US).unwrap();
        assert_eq!(us.as_str(), "+14155552671");
        assert_eq!(us.display(), "+1 415-555-2671");
        assert!(us.may_receive_sms());
        // The + wins over the clinic's country.
        assert_eq!(
            E164Phone::parse("+44 7911 123456", CountryCode::SPAIN)
                .unwrap()
                .as_str(),
            "+447911123456"
        );
        assert_eq!(
            E164Phone::parse("0049 1512 3456789", CountryCode::SPAIN)
                .unwrap()
                .as_str(),
            "+4915123456789"
        );
        // A UK number typed nationally by a UK clinic: the trunk 0 goes.
        let uk: CountryCode = "GB".parse().unwrap();
        assert_eq!(
            E164Phone::parse("07911 123456", uk).unwrap().as_str(),
            "+447911123456"
        );
    }

    #[test]
    fn garbage_and_impossible_numbers() {
        for input in [
            "",
            "   ",
            "abc",
            "612 345 67",   // one digit short
            "612 345 6789", // one too many
            "612a345678",
            "+34 012 345 678", // no Spanish number starts with 0
            "123",
            "+",
            "00",
            "612345678 ext. 12",
            "+999 612345678",
            "6123456781234567890",
        ] {
            assert_eq!(es(input), None, "{input:?} should be rejected");
        }
    }

    #[test]
    fn display_and_mask() {
        let p = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
        assert_eq!(p.display(), "+34 612 345 678");
        assert_eq!(p.mask(), "+34 ••• ••• 678");
        assert_eq!(p.calling_code(), 34);
        let us = E164Phone::parse("4155552671", CountryCode::US).unwrap();
        assert_eq!(us.mask(), "+1 ••• •••• 671");
        assert!(!us.mask().contains("415"));
    }

    #[test]
    fn country_codes() {
        assert_eq!("es".parse::<CountryCode>().unwrap(), CountryCode::SPAIN);
        assert_eq!("+34".parse::<CountryCode>().unwrap(), CountryCode::SPAIN);
        assert_eq!("0034".parse::<CountryCode>().unwrap(), CountryCode::SPAIN);
        assert_eq!("1".parse::<CountryCode>().unwrap(), CountryCode::US);
        assert_eq!(CountryCode::SPAIN.calling_code(), 34);
        assert_eq!(CountryCode::SPAIN.region(), "ES");
        assert!("XX".parse::<CountryCode>().is_err());
        assert!("+999".parse::<CountryCode>().is_err());
    }

    #[test]
    fn serde_round_trip_checks_the_form() {
        let p = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"+34612345678\"");
        assert_eq!(serde_json::from_str::<E164Phone>(&json).unwrap(), p);
        assert!(serde_json::from_str::<E164Phone>("\"612345678\"").is_err());
    }
}
