use super::*;

fn es(input: &str) -> Result<PatientContacts, ContactError> {
    PatientContacts::parse(input, CountryCode::SPAIN)
}

#[test]
fn email_and_phone_separated_by_a_comma() {
    let c = es("patient@example.org, +34 612 345 678").unwrap();
    assert_eq!(c.email().unwrap().as_str(), "patient@example.org");
    assert_eq!(c.phone().unwrap().as_str(), "+34612345678");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.display(), "patient@example.org, +34 612 345 678");
    assert_eq!(c.mask(), "p•••@example.org, +34 ••• ••• 678");
}

#[test]
fn other_separators_order_and_duplicates() {
    let c = es("612 345 678; Patient@Example.org\n0034 612-345-678\r\npatient@example.ORG ,, ;")
        .unwrap();
    assert_eq!(c.emails.len(), 1);
    assert_eq!(c.phones.len(), 1);
    assert_eq!(c.display(), "Patient@example.org, +34 612 345 678");

    let c = es("a@example.org, b@example.org, 612345678, 699 999 999").unwrap();
    assert_eq!(c.emails.len(), 2);
    assert_eq!(c.phones.len(), 2);
}

#[test]
fn phone_only_is_a_warning_not_an_error() {
    let c = es("612345678").unwrap();
    assert_eq!(c.warnings, vec![ContactWarning::SmsOnly]);
    assert_eq!(c.warnings[0].key(), "contact-warning-sms-only");
    assert!(
        c.warnings[0].to_string().contains("email"),
        "{}",
        c.warnings[0]
    );
    assert!(c.warnings[0].message(Lang::Es).contains("correo"));
}

#[test]
fn email_only_has_no_warning() {
    let c = es("patient@example.org").unwrap();
    assert!(c.phones.is_empty());
    assert!(c.warnings.is_empty());
}

#[test]
fn us_clinic() {
    let c = PatientContacts::parse("(415) 555-2671, p@example.com", CountryCode::US).unwrap();
    assert_eq!(c.phone().unwrap().as_str(), "+14155552671");
    assert_eq!(c.display(), "p@example.com, +1 415-555-2671");
}

#[test]
fn typo_warning_keeps_the_address_and_suggests() {
    let c = es("patient@gmial.com, 612345678").unwrap();
    assert_eq!(c.email().unwrap().as_str(), "patient@gmial.com");
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].key(), "contact-warning-email-typo");
    assert!(
        c.warnings[0].to_string().contains("patient@gmail.com"),
        "{}",
        c.warnings[0]
    );
}

#[test]
fn landline_warns_that_sms_may_not_arrive() {
    let c = es("p@example.org, 91 123 45 67").unwrap();
    assert!(
        matches!(c.warnings[..], [ContactWarning::NotMobile { .. }]),
        "{:?}",
        c.warnings
    );
}

#[test]
fn errors_name_the_token_and_the_expected_form() {
    let err = es("patient@example.org, 612 345 67").unwrap_err();
    assert_eq!(
        err,
        ContactError::Phone {
            token: "612 345 67".into(),
            calling_code: 34
        }
    );
    assert_eq!(err.key(), "contact-error-phone");
    assert!(err.args().contains(&("token", "612 345 67".to_owned())));
    let en = err.to_string();
    assert!(en.contains("612 345 67") && en.contains("+34"), "{en}");
    let es_text = err.message(Lang::Es);
    assert!(
        es_text.contains("612 345 67") && es_text.contains("+34"),
        "{es_text}"
    );

    let err = es("patient@example, 612345678").unwrap_err();
    assert_eq!(
        err,
        ContactError::Email {
            token: "patient@example".into()
        }
    );
    assert!(err.to_string().contains("name@example.com"), "{err}");

    let err = es("patient at example dot org").unwrap_err();
    assert_eq!(err.key(), "contact-error-unrecognized");

    for empty in ["", "  ", ",;\n", " , "] {
        assert_eq!(es(empty).unwrap_err(), ContactError::Empty, "{empty:?}");
    }
}

#[test]
fn garbage() {
    for input in [
        "612345678 patient@example.org",
        "patient@example.org 612345678",
        "+34 612 345 678 ext 2",
        "12",
        "N/A",
        "-",
        "patient@@example.org",
        "612345678, Ana García",
    ] {
        assert!(es(input).is_err(), "{input:?} should fail");
    }
}

#[test]
fn every_key_has_text_in_both_languages() {
    let errors = [
        ContactError::Empty,
        ContactError::Email { token: "x".into() },
        ContactError::Phone {
            token: "x".into(),
            calling_code: 34,
        },
        ContactError::Unrecognized { token: "x".into() },
    ];
    for lang in Lang::ALL {
        for e in &errors {
            assert!(i18n::has_message(lang, e.key()), "{}", e.key());
            assert_ne!(e.message(lang), e.key());
        }
        for key in [
            "contact-warning-sms-only",
            "contact-warning-email-typo",
            "contact-warning-not-mobile",
        ] {
            assert!(i18n::has_message(lang, key), "{key}");
        }
    }
}
