//! What the patient sees files called, and sizes in words: download names are
//! made from the item's kind and position only (`image-01.jpg`,
//! `cine-02.mp4`, `report-03.pdf`), never from UIDs or patient data.

use studylink_model::{ItemKind, ShareItem};

use crate::pages::i18n::Lang;

/// One of an item's files, as named in `/p/{token}/f/{position}/{what}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Thumb,
    Jpg,
    Mp4,
    Dcm,
    Doc,
}

impl What {
    pub fn parse(s: &str) -> Option<What> {
        Some(match s {
            "thumb" => What::Thumb,
            "jpg" => What::Jpg,
            "mp4" => What::Mp4,
            "dcm" => What::Dcm,
            "doc" => What::Doc,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            What::Thumb => "thumb",
            What::Jpg => "jpg",
            What::Mp4 => "mp4",
            What::Dcm => "dcm",
            What::Doc => "doc",
        }
    }
}

/// A file of an item in the blob store, what to call it and how to serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFile {
    pub what: What,
    pub key: String,
    /// As recorded when the share was prepared (the thumbnail's isn't).
    pub size: Option<u64>,
    pub content_type: &'static str,
    /// `image-01.jpg`.
    pub file_name: String,
    /// Safe to show in the browser (an image, a video, a PDF, plain text);
    /// everything else is always an attachment.
    pub inline_ok: bool,
}

/// The file stem of an item: kind and 1-based position, zero-padded so the
/// names sort in order (`image-01`; `image-001` past 99 items).
pub fn stem(kind: ItemKind, position: i32, total: usize) -> String {
    let word = match kind {
        ItemKind::Image => "image",
        ItemKind::Cine => "cine",
        ItemKind::Document => "report",
        ItemKind::Other => "file",
    };
    let width = total.to_string().len().max(2);
    format!("{word}-{:0width$}", position as i64 + 1)
}

/// Document types a browser shows without any risk to this origin.
fn doc_type(stored: Option<&str>) -> (&'static str, bool) {
    let main = stored
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match main.as_str() {
        "application/pdf" => ("application/pdf", true),
        "text/plain" => ("text/plain; charset=utf-8", true),
        "text/xml" | "application/xml" => ("text/xml", false),
        "model/stl" | "model/x.stl-binary" | "model/x.stl-ascii" => ("model/stl", false),
        "model/obj" => ("model/obj", false),
        _ => ("application/octet-stream", false),
    }
}

/// The extension of a document: the one its blob key ends with (the share's
/// preparation picks it from the type), if it is a plain short word.
fn doc_ext(item: &ShareItem) -> String {
    let from_key = item
        .doc_key
        .as_deref()
        .and_then(|k| k.rsplit('/').next())
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e);
    match from_key {
        Some(e) if (1..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            e.to_ascii_lowercase()
        }
        _ => match doc_type(item.doc_content_type.as_deref()).0 {
            "application/pdf" => "pdf".into(),
            "text/plain; charset=utf-8" => "txt".into(),
            "text/xml" => "xml".into(),
            _ => "bin".into(),
        },
    }
}

/// The file `what` of an item, if it has one and patients may have it: an
/// image whose text check has not passed has none (every route, the page and
/// the ZIP ask here).
pub fn item_file(item: &ShareItem, what: What, total: usize) -> Option<ItemFile> {
    if !item.text_check.shows() {
        return None;
    }
    let stem = stem(item.kind, item.position, total);
    let size = |s: Option<i64>| s.and_then(|s| u64::try_from(s).ok());
    Some(match what {
        What::Thumb => ItemFile {
            what,
            key: item.thumb_key.clone()?,
            size: None,
            content_type: "image/jpeg",
            file_name: format!("{stem}-small.jpg"),
            inline_ok: true,
        },
        What::Jpg => ItemFile {
            what,
            key: item.jpeg_key.clone()?,
            size: size(item.jpeg_size),
            content_type: "image/jpeg",
            file_name: format!("{stem}.jpg"),
            inline_ok: true,
        },
        What::Mp4 => ItemFile {
            what,
            key: item.mp4_key.clone()?,
            size: size(item.mp4_size),
            content_type: "video/mp4",
            file_name: format!("{stem}.mp4"),
            inline_ok: true,
        },
        What::Dcm => ItemFile {
            what,
            key: item.dicom_key.clone(),
            size: size(Some(item.dicom_size)),
            content_type: "application/dicom",
            file_name: format!("{stem}.dcm"),
            inline_ok: false,
        },
        What::Doc => {
            let (content_type, inline_ok) = doc_type(item.doc_content_type.as_deref());
            ItemFile {
                what,
                key: item.doc_key.clone()?,
                size: size(item.doc_size),
                content_type,
                file_name: format!("{stem}.{}", doc_ext(item)),
                inline_ok,
            }
        }
    })
}

/// The files a patient may download for an item, in the order offered.
pub fn downloads(item: &ShareItem, total: usize) -> Vec<ItemFile> {
    let order: &[What] = match item.kind {
        ItemKind::Image => &[What::Jpg, What::Dcm],
        ItemKind::Cine => &[What::Mp4, What::Jpg, What::Dcm],
        ItemKind::Document => &[What::Doc, What::Dcm],
        ItemKind::Other => &[What::Dcm],
    };
    order
        .iter()
        .filter_map(|w| item_file(item, *w, total))
        .collect()
}

/// "240 KB", "1.4 MB", "1,4 MB" (decimal units, as phones and macOS show them).
pub fn human_size(lang: Lang, bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let text = if value >= 100.0 || unit == 0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = match lang {
        Lang::En => text,
        Lang::Es => text.replace('.', ","),
    };
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use studylink_model::{InstanceId, ShareId};

    fn item(kind: ItemKind, position: i32) -> ShareItem {
        ShareItem {
            share_id: ShareId(1),
            position,
            source_instance_id: InstanceId(1),
            kind,
            password_reason: None,
            sop_instance_uid: "2.25.1".into(),
            dicom_key: "shares/1/1/0.dcm".into(),
            dicom_size: 1234,
            jpeg_key: Some("shares/1/1/0.jpg".into()),
            jpeg_size: Some(99),
            thumb_key: Some("shares/1/1/0.thumb.jpg".into()),
            mp4_key: None,
            mp4_size: None,
            doc_key: None,
            doc_size: None,
            doc_content_type: None,
            rows: Some(600),
            columns: Some(800),
            frames: 1,
            frame_ms: None,
            video_pending: false,
            text_check: studylink_model::TextCheck::None,
        }
    }

    #[test]
    fn names_come_from_kind_and_position_only() {
        assert_eq!(stem(ItemKind::Image, 0, 3), "image-01");
        assert_eq!(stem(ItemKind::Cine, 1, 3), "cine-02");
        assert_eq!(stem(ItemKind::Document, 2, 3), "report-03");
        assert_eq!(stem(ItemKind::Other, 9, 120), "file-010");
        let i = item(ItemKind::Image, 0);
        let f = item_file(&i, What::Dcm, 3).unwrap();
        assert_eq!(
            (f.file_name.as_str(), f.content_type, f.size),
            ("image-01.dcm", "application/dicom", Some(1234))
        );
        assert!(!f.file_name.contains("2.25"));
        assert!(item_file(&i, What::Mp4, 3).is_none());
        assert_eq!(
            downloads(&i, 3).iter().map(|f| f.what).collect::<Vec<_>>(),
            [What::Jpg, What::Dcm]
        );
    }

    #[test]
    fn documents_keep_their_type_only_when_safe_to_show() {
        let mut d = item(ItemKind::Document, 2);
        d.doc_key = Some("shares/1/1/2.pdf".into());
        d.doc_content_type = Some("application/pdf".into());
        let f = item_file(&d, What::Doc, 3).unwrap();
        assert_eq!(
            (f.file_name.as_str(), f.content_type, f.inline_ok),
            ("report-03.pdf", "application/pdf", true)
        );
        d.doc_key = Some("shares/1/1/2.txt".into());
        d.doc_content_type = Some("text/plain; charset=utf-8".into());
        assert!(item_file(&d, What::Doc, 3).unwrap().inline_ok);
        d.doc_key = Some("shares/1/1/2.html".into());
        d.doc_content_type = Some("text/html".into());
        let f = item_file(&d, What::Doc, 3).unwrap();
        assert_eq!(
            (f.content_type, f.inline_ok),
            ("application/octet-stream", false)
        );
        d.doc_key = Some("shares/1/1/2".into());
        d.doc_content_type = Some("text/xml".into());
        assert_eq!(
            item_file(&d, What::Doc, 3).unwrap().file_name,
            "report-03.xml"
        );
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(human_size(Lang::En, 0), "0 B");
        assert_eq!(human_size(Lang::En, 999), "999 B");
        assert_eq!(human_size(Lang::En, 240_000), "240 KB");
        assert_eq!(human_size(Lang::En, 1_450_000), "1.4 MB");
        assert_eq!(human_size(Lang::Es, 1_450_000), "1,4 MB");
        assert_eq!(human_size(Lang::En, 999_999), "1.0 MB");
        assert_eq!(human_size(Lang::En, 2_000_000_000), "2.0 GB");
        assert_eq!(
            human_size(Lang::En, 12_300),
            "12 KB",
            "no decimals below a megabyte"
        );
    }
}
