//! What an object is (image, document, neither) and how fast a cine plays.

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::info;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Image { frames: u32 },
    Document(DocumentKind),
    NoPixels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Cda,
    /// STL, OBJ or MTL (Encapsulated 3D models).
    Model,
    StructuredReport,
    Other,
}

pub fn kind(obj: &InMemDicomObject) -> ImageKind {
    if [tags::PIXEL_DATA, tags::FLOAT_PIXEL_DATA, tags::DOUBLE_FLOAT_PIXEL_DATA].iter().any(|t| obj.get(*t).is_some()) {
        let frames = info::int::<u32>(obj, tags::NUMBER_OF_FRAMES).filter(|n| *n > 0).unwrap_or(1);
        return ImageKind::Image { frames };
    }
    if obj.get(tags::ENCAPSULATED_DOCUMENT).is_some() {
        let mime = info::string(obj, tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT).unwrap_or_default().to_ascii_lowercase();
        return ImageKind::Document(match mime.as_str() {
            "application/pdf" => DocumentKind::Pdf,
            "text/xml" | "application/xml" => DocumentKind::Cda,
            m if m.starts_with("model/") => DocumentKind::Model,
            _ => DocumentKind::Other,
        });
    }
    let class = info::string(obj, tags::SOP_CLASS_UID).unwrap_or_default();
    if class.starts_with("1.2.840.10008.5.1.4.1.1.88.") || obj.get(tags::CONTENT_SEQUENCE).is_some() {
        return ImageKind::Document(DocumentKind::StructuredReport);
    }
    ImageKind::NoPixels
}

/// Playback timing of a multi-frame image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cine {
    pub frames: u32,
    pub frame_time_ms: f64,
    pub fps: f64,
}

/// `None` for single frames and for multi-frame objects that carry no timing
/// (a stack of NM views or CT slices is not a loop). Sources in order: Frame
/// Time, the mean of Frame Time Vector (its first entry is 0 by definition),
/// Cine Rate, Recommended Display Frame Rate.
pub fn cine_info(obj: &InMemDicomObject) -> Option<Cine> {
    let frames = info::int::<u32>(obj, tags::NUMBER_OF_FRAMES).filter(|n| *n > 1)?;
    let sane = |ms: f64| (ms.is_finite() && ms > 0.0 && ms < 60_000.0).then_some(ms);
    let frame_time = info::float(obj, tags::FRAME_TIME)
        .and_then(sane)
        .or_else(|| {
            let v = info::floats(obj, tags::FRAME_TIME_VECTOR)?;
            let rest: Vec<f64> = v.iter().skip(1).copied().filter(|t| *t > 0.0).collect();
            sane(rest.iter().sum::<f64>() / rest.len().max(1) as f64)
        })
        .or_else(|| info::float(obj, tags::CINE_RATE).and_then(|r| sane(1000.0 / r)))
        .or_else(|| info::float(obj, tags::RECOMMENDED_DISPLAY_FRAME_RATE).and_then(|r| sane(1000.0 / r)))?;
    Some(Cine { frames, frame_time_ms: frame_time, fps: 1000.0 / frame_time })
}
