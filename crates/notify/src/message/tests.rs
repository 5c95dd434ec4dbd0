use chrono::NaiveDate;
use url::Url;

use super::*;

pub(crate) const TOKEN: &str = "q8Xz3Jd0vPpLr7WmT2kYb9NcH4sFa6GeUw1iOyKjQxE";

pub(crate) fn sample(lang: Lang) -> ShareMessage {
    ShareMessage {
        clinic_name: "Clínica Dental Sonrisa".into(),
        clinic_logo_url: Some(Url::parse("https://clinic.example/logo.png").unwrap()),
        link: Url::parse(&format!("https://studylink.clinic.example/p/{TOKEN}")).unwrap(),
        expires_at: NaiveDate::from_ymd_opt(2027, 2, 28).unwrap(),
        clinic_phone: Some("+34 910 000 000".into()),
        clinic_email: Some("recepcion@clinic.example".into()),
        language: lang,
    }
}

#[test]
fn email_in_spanish() {
    let e = sample(Lang::Es).render_email();
    assert_eq!(e.subject, "Sus imágenes de Clínica Dental Sonrisa");
    assert_eq!(e.from_name, "Clínica Dental Sonrisa");
    assert!(e.html.contains(&format!(
        r#"href="https://studylink.clinic.example/p/{TOKEN}""#
    )));
    assert!(e.html.contains("28 de febrero de 2027"), "{}", e.html);
    assert!(e.html.contains("Ver mis imágenes"));
    assert!(
        e.html
            .contains(r#"<img src="https://clinic.example/logo.png""#)
    );
    assert!(e.html.contains("recepcion@clinic.example"));
    assert!(e.html.contains(r#"lang="es""#));
    assert!(!e.html.contains("<style"), "inline styles only");
    assert!(
        e.text
            .contains(&format!("https://studylink.clinic.example/p/{TOKEN}"))
    );
    assert!(e.text.contains("28 de febrero de 2027"));
    assert!(e.text.contains("+34 910 000 000"));
}

#[test]
fn email_in_english() {
    let e = sample(Lang::En).render_email();
    assert_eq!(e.subject, "Your images from Clínica Dental Sonrisa");
    assert!(e.html.contains("28 February 2027"));
    assert!(e.text.contains("28 February 2027"));
    assert!(e.html.contains("View my images"));
}

#[test]
fn email_without_logo_or_contacts() {
    let mut m = sample(Lang::En);
    m.clinic_logo_url = None;
    m.clinic_phone = None;
    m.clinic_email = Some("  ".into());
    let e = m.render_email();
    assert!(!e.html.contains("<img"));
    assert!(!e.text.contains("Questions?"));
    assert!(!e.html.contains("Questions?"));
}

#[test]
fn email_escapes_html_and_keeps_subject_on_one_line() {
    let mut m = sample(Lang::En);
    m.clinic_name = "Dr <b>\"Smith\"</b> & Co\r\nBcc: x@evil.example".into();
    let e = m.render_email();
    assert!(!e.html.contains("<b>"));
    assert!(
        e.html
            .contains("Dr &lt;b&gt;&quot;Smith&quot;&lt;/b&gt; &amp; Co")
    );
    assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
    assert!(!e.from_name.contains('\n'));
    // The link's query (if any) is escaped inside the attribute.
    m.link = Url::parse("https://x.example/p/abc?a=1&b=2").unwrap();
    assert!(
        m.render_email()
            .html
            .contains(r#"href="https://x.example/p/abc?a=1&amp;b=2""#)
    );
}

#[test]
fn sms_fits_one_gsm7_segment_in_both_languages() {
    for lang in Lang::ALL {
        let s = sample(lang).render_sms();
        assert_eq!(s.encoding, SmsEncoding::Gsm7, "{}", s.text);
        assert_eq!(
            s.segments,
            1,
            "{} ({} septets)",
            s.text,
            sms_length(&s.text).1
        );
        assert!(
            s.text
                .contains(&format!("https://studylink.clinic.example/p/{TOKEN}"))
        );
    }
    let es = sample(Lang::Es).render_sms();
    // Accents GSM-7 lacks are dropped rather than paying for UCS-2.
    assert_eq!(
        es.text,
        format!(
            "Clinica Dental Sonrisa: sus imagenes estan en https://studylink.clinic.example/p/{TOKEN} (hasta el 28/02/2027)"
        )
    );
    let en = sample(Lang::En).render_sms();
    assert!(en.text.contains("until 28 Feb 2027"), "{}", en.text);
}

#[test]
fn sms_shortens_a_long_clinic_name_but_never_the_link() {
    let mut m = sample(Lang::Es);
    m.clinic_name =
        "Centro de Diagnóstico por Imagen y Ecografía Obstétrica Avanzada de la Comunidad".into();
    let s = m.render_sms();
    assert_eq!(s.segments, 1, "{}", s.text);
    assert!(sms_length(&s.text).1 <= 160);
    assert!(s.text.starts_with("Centro de Diagnostico"), "{}", s.text);
    assert!(s.text.contains(m.link.as_str()));
}

#[test]
fn sms_with_a_very_long_link_keeps_the_link_whole() {
    let mut m = sample(Lang::En);
    m.link = Url::parse(&format!(
        "https://{}.example/p/{TOKEN}",
        "very-long-subdomain".repeat(5)
    ))
    .unwrap();
    let s = m.render_sms();
    assert!(s.text.contains(m.link.as_str()), "{}", s.text);
    assert!(s.segments >= 1);
}

#[test]
fn sms_in_another_script_uses_ucs2_and_keeps_the_name_when_it_cannot_fit() {
    let mut m = sample(Lang::En);
    m.clinic_name = "Клиника Здоровье".into();
    let s = m.render_sms();
    assert_eq!(s.encoding, SmsEncoding::Ucs2);
    assert!(s.text.contains("Клиника Здоровье"), "{}", s.text);
    assert!(s.text.contains(m.link.as_str()));
}

#[test]
fn payload_json_round_trip() {
    let m = sample(Lang::Es);
    for p in [
        Payload::Email(m.render_email()),
        Payload::Sms(m.render_sms()),
    ] {
        assert_eq!(Payload::from_json(&p.to_json()).unwrap(), p);
    }
    assert!(
        Payload::Sms(m.render_sms())
            .to_json()
            .contains(r#""kind":"sms""#)
    );
}

#[test]
fn dates() {
    let d = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
    assert_eq!(long_date(Lang::En, d), "4 March 2026");
    assert_eq!(long_date(Lang::Es, d), "4 de marzo de 2026");
    assert_eq!(short_date(Lang::En, d), "4 Mar 2026");
    assert_eq!(short_date(Lang::Es, d), "04/03/2026");
}
