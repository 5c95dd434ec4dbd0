//! The send dialog's contact field: "an email, a phone number, or both
//! separated by a comma". Parsed into typed values the rest of the system
//! uses; errors and warnings carry a Fluent key and arguments so the web layer
//! can show them in the staff member's language.
//!
//! Contact values are patient data: errors echo the offending token back to
//! the staff member who typed it, so never log an error's text.

mod email;
mod phone;

use std::fmt;

pub use email::EmailAddress;
pub use phone::{ContactPhoneError, CountryCode, E164Phone};

use crate::i18n::{self, Lang};

/// The patient's contacts, deduplicated, in the order typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientContacts {
    pub emails: Vec<EmailAddress>,
    pub phones: Vec<E164Phone>,
    /// Accepted, but worth showing before sending.
    pub warnings: Vec<ContactWarning>,
}

impl PatientContacts {
    /// Splits on commas, semicolons and line breaks; a token with `@` is an
    /// email, one made of digits and separators a phone number.
    pub fn parse(
        input: &str,
        default_country: CountryCode,
    ) -> Result<PatientContacts, ContactError> {
        let mut out = PatientContacts::default();
        for token in input
            .split([',', ';', '\n', '\r'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if token.contains('@') {
                let email = EmailAddress::parse_inner(token).map_err(|_| ContactError::Email {
                    token: token.to_owned(),
                })?;
                if out.emails.iter().any(|e| e.key() == email.key()) {
                    continue;
                }
                if let Some(suggestion) = email.typo_suggestion() {
                    out.warnings.push(ContactWarning::EmailTypo {
                        entered: email.clone(),
                        suggestion,
                    });
                }
                out.emails.push(email);
            } else if token.chars().any(|c| c.is_ascii_digit()) {
                let phone = E164Phone::parse_inner(token, default_country).map_err(|_| {
                    ContactError::Phone {
                        token: token.to_owned(),
                        calling_code: default_country.calling_code(),
                    }
                })?;
                if out.phones.contains(&phone) {
                    continue;
                }
                if !phone.may_receive_sms() {
                    out.warnings.push(ContactWarning::NotMobile {
                        phone: phone.clone(),
                    });
                }
                out.phones.push(phone);
            } else {
                return Err(ContactError::Unrecognized {
                    token: token.to_owned(),
                });
            }
        }
        if out.emails.is_empty() && out.phones.is_empty() {
            return Err(ContactError::Empty);
        }
        if out.emails.is_empty() {
            out.warnings.push(ContactWarning::SmsOnly);
        }
        Ok(out)
    }

    pub fn email(&self) -> Option<&EmailAddress> {
        self.emails.first()
    }

    pub fn phone(&self) -> Option<&E164Phone> {
        self.phones.first()
    }

    /// The normalised field, to show back before sending and to store for
    /// resends: "patient@example.org, +34 612 345 678".
    pub fn display(&self) -> String {
        self.emails
            .iter()
            .map(|e| e.as_str().to_owned())
            .chain(self.phones.iter().map(E164Phone::display))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// For staff lists: "p•••@example.org, +34 ••• ••• 678".
    pub fn mask(&self) -> String {
        self.emails
            .iter()
            .map(EmailAddress::mask)
            .chain(self.phones.iter().map(E164Phone::mask))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why the field can't be used. Echoes the offending token: show it to the
/// staff member, never log it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactError {
    Empty,
    Email { token: String },
    Phone { token: String, calling_code: u16 },
    Unrecognized { token: String },
}

impl ContactError {
    /// The Fluent message id.
    pub fn key(&self) -> &'static str {
        match self {
            ContactError::Empty => "contact-error-empty",
            ContactError::Email { .. } => "contact-error-email",
            ContactError::Phone { .. } => "contact-error-phone",
            ContactError::Unrecognized { .. } => "contact-error-unrecognized",
        }
    }

    /// The Fluent arguments.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            ContactError::Empty => vec![],
            ContactError::Email { token } | ContactError::Unrecognized { token } => {
                vec![("token", token.clone())]
            }
            ContactError::Phone {
                token,
                calling_code,
            } => {
                vec![
                    ("token", token.clone()),
                    ("code", format!("+{calling_code}")),
                ]
            }
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        localise(lang, self.key(), self.args())
    }
}

impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ContactError {}

/// Accepted input worth a second look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactWarning {
    /// Only a phone number: an email helps delivery.
    SmsOnly,
    /// The domain looks like a misspelt provider.
    EmailTypo {
        entered: EmailAddress,
        suggestion: EmailAddress,
    },
    /// A landline or service number: text messages will likely not arrive.
    NotMobile { phone: E164Phone },
}

impl ContactWarning {
    pub fn key(&self) -> &'static str {
        match self {
            ContactWarning::SmsOnly => "contact-warning-sms-only",
            ContactWarning::EmailTypo { .. } => "contact-warning-email-typo",
            ContactWarning::NotMobile { .. } => "contact-warning-not-mobile",
        }
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            ContactWarning::SmsOnly => vec![],
            ContactWarning::EmailTypo {
                entered,
                suggestion,
            } => vec![
                ("entered", entered.as_str().to_owned()),
                ("suggestion", suggestion.as_str().to_owned()),
            ],
            ContactWarning::NotMobile { phone } => vec![("phone", phone.display())],
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        localise(lang, self.key(), self.args())
    }
}

impl fmt::Display for ContactWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

fn localise(lang: Lang, key: &str, args: Vec<(&'static str, String)>) -> String {
    let args: Vec<(&str, i18n::Arg<'_>)> = args.into_iter().map(|(k, v)| (k, v.into())).collect();
    i18n::t(lang, key, &args)
}

#[cfg(test)]
mod tests;
