//! The patient email: a single-column HTML layout with inline styles (mail
//! clients drop <style> blocks and external CSS), and a plain-text twin.

use super::{RenderedEmail, ShareMessage, long_date};
use crate::i18n::{Arg, t};

pub(super) fn render(m: &ShareMessage) -> RenderedEmail {
    let lang = m.language;
    let clinic = m.clinic_name.trim();
    let tr = |id: &str| t(lang, id, &[("clinic", Arg::from(clinic))]);
    let date = long_date(lang, m.expires_at);
    let link = m.link.as_str();

    let heading = tr("email-heading");
    let intro = tr("email-intro");
    // The plain-text part has no button to point at.
    let intro_text = tr("email-intro-text");
    let button = tr("email-button");
    let fallback = tr("email-link-fallback");
    let expiry = t(lang, "email-expiry", &[("date", Arg::from(date.as_str()))]);
    let footer = tr("email-footer");
    let contact_lines = contacts(m);

    let mut text = format!("{heading}\n\n{intro_text}\n\n{button}:\n{link}\n\n{expiry}\n");
    if !contact_lines.is_empty() {
        text.push('\n');
        text.push_str(&tr("email-contact"));
        text.push('\n');
        for line in &contact_lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.push_str(&format!("\n--\n{footer}\n"));

    let logo = m
        .clinic_logo_url
        .as_ref()
        .map(|u| {
            format!(
                r#"<tr><td style="padding:24px 32px 0 32px"><img src="{}" alt="{}" style="max-height:56px;max-width:240px;border:0;display:block"></td></tr>"#,
                esc(u.as_str()),
                esc(clinic)
            )
        })
        .unwrap_or_default();
    let contact_html = if contact_lines.is_empty() {
        String::new()
    } else {
        let lines: Vec<String> = contact_lines.iter().map(|l| esc(l)).collect();
        format!(
            r#"<p style="margin:24px 0 0 0;font-size:14px;line-height:20px;color:#444444">{}<br>{}</p>"#,
            esc(&tr("email-contact")),
            lines.join("<br>")
        )
    };
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="{lang_code}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title></head>
<body style="margin:0;padding:0;background-color:#f2f4f7">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f2f4f7">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background-color:#ffffff;border-radius:8px;font-family:Arial,Helvetica,sans-serif;color:#1a1a1a">
{logo}
<tr><td style="padding:24px 32px 8px 32px"><h1 style="margin:0;font-size:22px;line-height:28px;font-weight:bold;color:#1a1a1a">{heading}</h1></td></tr>
<tr><td style="padding:8px 32px"><p style="margin:0;font-size:16px;line-height:24px">{intro}</p></td></tr>
<tr><td style="padding:16px 32px" align="left">
<a href="{href}" style="display:inline-block;padding:14px 28px;background-color:#0b5cad;color:#ffffff;text-decoration:none;font-size:16px;font-weight:bold;border-radius:6px">{button}</a>
</td></tr>
<tr><td style="padding:8px 32px"><p style="margin:0;font-size:16px;line-height:24px"><strong>{expiry}</strong></p>
<p style="margin:16px 0 0 0;font-size:13px;line-height:18px;color:#555555">{fallback}<br><a href="{href}" style="color:#0b5cad;word-break:break-all">{link_text}</a></p>
{contact_html}
</td></tr>
<tr><td style="padding:24px 32px 32px 32px"><p style="margin:0;font-size:12px;line-height:17px;color:#777777">{footer}</p></td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"#,
        lang_code = lang.code(),
        title = esc(&tr("email-subject")),
        heading = esc(&heading),
        intro = esc(&intro),
        href = esc(link),
        button = esc(&button),
        expiry = esc(&expiry),
        fallback = esc(&fallback),
        link_text = esc(link),
        footer = esc(&footer),
    );

    RenderedEmail {
        from_name: one_line(clinic),
        reply_to: m
            .clinic_email
            .as_deref()
            .and_then(crate::contacts::EmailAddress::parse)
            .map(String::from),
        subject: one_line(&tr("email-subject")),
        html,
        text,
    }
}

fn contacts(m: &ShareMessage) -> Vec<String> {
    let lang = m.language;
    let mut lines = Vec::new();
    if let Some(phone) = m
        .clinic_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        lines.push(t(
            lang,
            "email-contact-phone",
            &[("phone", Arg::from(phone))],
        ));
    }
    if let Some(email) = m
        .clinic_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        lines.push(t(
            lang,
            "email-contact-email",
            &[("email", Arg::from(email))],
        ));
    }
    lines
}

/// A clinic name with a line break must not split the Subject header.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes text for element content and double-quoted attributes alike.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
