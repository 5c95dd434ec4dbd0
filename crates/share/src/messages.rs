//! The patient's messages for one send: the email and/or the SMS, rendered
//! now so a retry sends exactly this text. They carry the clinic's details,
//! the link and its last day: nothing about the patient.

use crate::ShareService;
use chrono::{DateTime, NaiveDate, Utc};
use studylink_model::{AccountSettings, Language, Millis, Share};
use studylink_notify::{Lang, Payload, ShareMessage};
use studylink_store::outbox::{NewOutboxMessage, OutboxChannel};

impl ShareService {
    /// The messages telling the share's contacts about `link`, valid until `expires_at`.
    pub(crate) fn build_messages(
        &self,
        share: &Share,
        settings: &AccountSettings,
        expires_at: Millis,
    ) -> Vec<NewOutboxMessage> {
        let logo = settings.logo.as_ref().map(|logo| {
            self.public_url(&format!(
                "clinic/{}/logo?v={}",
                share.account_id,
                logo.version()
            ))
        });
        let message = ShareMessage {
            clinic_name: settings.clinic_name.clone(),
            clinic_logo_url: logo,
            link: self.link(share),
            expires_at: local_date(expires_at, &settings.time_zone),
            clinic_phone: settings.phone.clone(),
            clinic_email: settings.email.clone(),
            language: lang(share.language),
        };
        outbox_messages(share, &message)
    }
}

fn outbox_messages(share: &Share, message: &ShareMessage) -> Vec<NewOutboxMessage> {
    let mut out = Vec::new();
    let row = |channel, recipient: &str, payload: Payload| NewOutboxMessage {
        account_id: share.account_id,
        share_id: Some(share.id.0),
        channel,
        recipient: recipient.to_owned(),
        payload: payload.to_json(),
    };
    if let Some(email) = &share.email {
        out.push(row(
            OutboxChannel::Email,
            email,
            Payload::Email(message.render_email()),
        ));
    }
    if let Some(phone) = &share.phone {
        out.push(row(
            OutboxChannel::Sms,
            phone,
            Payload::Sms(message.render_sms()),
        ));
    }
    out
}

pub(crate) fn lang(l: Language) -> Lang {
    match l {
        Language::En => Lang::En,
        Language::Es => Lang::Es,
    }
}

/// The calendar day of `at` where the clinic is: the date the patient reads
/// as the link's last day. An unknown zone name (the forms validate it, so
/// only an old row could hold one) falls back to UTC.
pub(crate) fn local_date(at: Millis, time_zone: &str) -> NaiveDate {
    let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc.with_timezone(&tz).date_naive(),
        Err(_) => utc.date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studylink_model::{AccountId, ShareId, ShareState, StudyId};
    use url::Url;

    fn share(email: Option<&str>, phone: Option<&str>) -> Share {
        Share {
            id: ShareId(5),
            account_id: AccountId(2),
            study_id: StudyId(3),
            token_seed: vec![9; 32],
            created_by: None,
            created_by_label: "Ana".into(),
            created_at: 0,
            expires_at: 0,
            revoked_at: None,
            language: Language::Es,
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            state: ShareState::Ready,
            state_error: None,
            password_required: false,
            password_hash: None,
            link_code_version: 0,
            failed_attempts: 0,
            locked_until: None,
            first_opened_at: None,
            last_opened_at: None,
            views: 0,
            downloads: 0,
            last_sent_at: None,
            instance_ids: vec![],
        }
    }

    #[test]
    fn local_date_follows_the_clinic_zone() {
        // 2026-03-01T02:30Z is still 28 February in New York, already 1 March in Madrid.
        let at = DateTime::parse_from_rfc3339("2026-03-01T02:30:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            local_date(at, "America/New_York"),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            local_date(at, "Europe/Madrid"),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(
            local_date(at, "UTC"),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(
            local_date(at, "Not/AZone"),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
    }

    #[test]
    fn one_message_per_contact_each_with_the_link() {
        let link = Url::parse("https://studies.example/p/abc").unwrap();
        let message = ShareMessage {
            clinic_name: "Clínica Sol".into(),
            clinic_logo_url: None,
            link: link.clone(),
            expires_at: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            clinic_phone: None,
            clinic_email: None,
            language: Lang::Es,
        };
        let both = outbox_messages(
            &share(Some("p@example.org"), Some("+34612345678")),
            &message,
        );
        assert_eq!(both.len(), 2);
        assert_eq!(both[0].channel, OutboxChannel::Email);
        assert_eq!(both[0].recipient, "p@example.org");
        assert_eq!(both[1].channel, OutboxChannel::Sms);
        assert_eq!(both[1].recipient, "+34612345678");
        for m in &both {
            assert_eq!(m.share_id, Some(5));
            assert_eq!(m.account_id, AccountId(2));
            assert!(m.payload.contains(link.as_str()), "{}", m.payload);
            assert!(Payload::from_json(&m.payload).is_ok());
        }
        assert!(matches!(
            Payload::from_json(&both[0].payload).unwrap(),
            Payload::Email(_)
        ));
        assert!(matches!(
            Payload::from_json(&both[1].payload).unwrap(),
            Payload::Sms(_)
        ));
        assert_eq!(
            outbox_messages(&share(None, Some("+34612345678")), &message).len(),
            1
        );
        assert!(outbox_messages(&share(None, None), &message).is_empty());
    }
}
