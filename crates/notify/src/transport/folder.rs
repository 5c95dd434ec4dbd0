//! The default transport: each message becomes a file in a local folder,
//! `.eml` for email (opens in any mail program) and `.txt` for SMS, so a
//! clinic trying StudyLink sees exactly what would be sent.
//!
//! Files are named by outbox id, so a retried message overwrites itself
//! instead of appearing twice. They hold the recipient: the folder is
//! created readable by its owner only.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use super::{Accepted, Outgoing, SendError, Transport};

pub struct OutboxFolder {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxFolder {
    /// `from` is the address the SMTP transport would use, if one is known.
    pub fn new(dir: impl Into<PathBuf>, from: Option<&str>) -> Result<OutboxFolder, String> {
        let from = from.unwrap_or("studylink@localhost");
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("outbox folder: bad from address {from:?}: {e}"))?;
        Ok(OutboxFolder {
            dir: dir.into(),
            from,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn render(&self, msg: &Outgoing<'_>) -> Result<(String, Vec<u8>), SendError> {
        match msg {
            Outgoing::Email { id, to, email } => {
                let to: Mailbox = to.as_str().parse().map_err(|_| {
                    SendError::Permanent("the email address is not deliverable".into())
                })?;
                let message = Message::builder()
                    .from(Mailbox::new(
                        Some(email.from_name.clone()),
                        self.from.email.clone(),
                    ))
                    .to(to)
                    .subject(email.subject.clone())
                    .multipart(MultiPart::alternative_plain_html(
                        email.text.clone(),
                        email.html.clone(),
                    ))
                    .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
                Ok((format!("{id:08}-email.eml"), message.formatted()))
            }
            Outgoing::Sms { id, to, sms, .. } => {
                let encoding = match sms.encoding {
                    crate::message::SmsEncoding::Gsm7 => "GSM-7",
                    crate::message::SmsEncoding::Ucs2 => "UCS-2",
                };
                let body = format!(
                    "To: {}\nEncoding: {encoding}, {} segment(s)\n\n{}\n",
                    to.display(),
                    sms.segments,
                    sms.text
                );
                Ok((format!("{id:08}-sms.txt"), body.into_bytes()))
            }
        }
    }
}

#[async_trait]
impl Transport for OutboxFolder {
    fn name(&self) -> &'static str {
        "folder"
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<Accepted, SendError> {
        let (name, bytes) = self.render(msg)?;
        let dir = self.dir.clone();
        let written = tokio::task::spawn_blocking(move || {
            write_atomically(&dir, &name, &bytes).map(|()| name)
        })
        .await
        .map_err(|e| SendError::Transient(format!("outbox folder: {e}")))?;
        match written {
            Ok(name) => Ok(Accepted {
                provider_id: Some(name),
            }),
            Err(e) => Err(SendError::Transient(format!(
                "outbox folder {}: {e}",
                self.dir.display()
            ))),
        }
    }
}

/// A reader never sees half a file: write beside it, then rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;
    use crate::contacts::{CountryCode, E164Phone, EmailAddress};
    use crate::message::tests::{TOKEN, sample};

    #[tokio::test]
    async fn writes_eml_and_txt_named_by_id_and_overwrites_on_retry() {
        let dir = tempfile::tempdir().unwrap();
        let folder =
            OutboxFolder::new(dir.path().join("outbox"), Some("noreply@clinic.example")).unwrap();
        let m = sample(Lang::Es);
        let email = m.render_email();
        let to = EmailAddress::parse("patient@example.org").unwrap();
        let msg = Outgoing::Email {
            id: 7,
            to: &to,
            email: &email,
        };
        let accepted = folder.send(&msg).await.unwrap();
        assert_eq!(accepted.provider_id.as_deref(), Some("00000007-email.eml"));
        folder.send(&msg).await.unwrap();

        let sms = m.render_sms();
        let phone = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
        folder
            .send(&Outgoing::Sms {
                id: 8,
                to: &phone,
                sms: &sms,
                callback: None,
            })
            .await
            .unwrap();

        let mut names: Vec<String> = std::fs::read_dir(folder.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["00000007-email.eml", "00000008-sms.txt"]);

        let eml = std::fs::read_to_string(folder.dir().join("00000007-email.eml")).unwrap();
        assert!(eml.contains("To: patient@example.org"), "{eml}");
        assert!(eml.contains("noreply@clinic.example"));
        assert!(eml.contains("multipart/alternative"));
        assert!(
            eml.contains("Subject: Sus =?utf-8?b?"),
            "non-ASCII subject is encoded: {eml}"
        );
        let txt = std::fs::read_to_string(folder.dir().join("00000008-sms.txt")).unwrap();
        assert!(txt.starts_with("To: +34 612 345 678\n"), "{txt}");
        assert!(txt.contains(TOKEN));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(folder.dir())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read patient contacts");
        }
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_temporary_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let folder = OutboxFolder::new(&file, None).unwrap();
        let sms = sample(Lang::En).render_sms();
        let phone = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
        let err = folder
            .send(&Outgoing::Sms {
                id: 1,
                to: &phone,
                sms: &sms,
                callback: None,
            })
            .await
            .unwrap_err();
        assert!(!err.is_permanent(), "{err}");
        assert!(!err.message().contains("612"), "{err}");
    }
}
