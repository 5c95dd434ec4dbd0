//! Does an object carry text in its pixels?
//!
//! Burned In Annotation (0028,0301) is Type 3 in most IODs and is often missing or defaulted,
//! so its absence never means NO. For classes that are screens or photographs by nature
//! (secondary capture, video, anything with a Conversion Type) even NO is not trusted: the
//! attribute describes the capture, not what the captured screen showed.

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::Assessment;

const US_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.6.1", // Ultrasound Image
    "1.2.840.10008.5.1.4.1.1.6",   // Ultrasound Image (retired)
    "1.2.840.10008.5.1.4.1.1.3.1", // Ultrasound Multi-frame Image
    "1.2.840.10008.5.1.4.1.1.3",   // Ultrasound Multi-frame Image (retired)
    "1.2.840.10008.5.1.4.1.1.6.2", // Enhanced US Volume
];

const SC_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.7",   // Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.1", // Multi-frame Single Bit SC
    "1.2.840.10008.5.1.4.1.1.7.2", // Multi-frame Grayscale Byte SC
    "1.2.840.10008.5.1.4.1.1.7.3", // Multi-frame Grayscale Word SC
    "1.2.840.10008.5.1.4.1.1.7.4", // Multi-frame True Color SC
];

const VIDEO_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.77.1.1.1", // Video Endoscopic
    "1.2.840.10008.5.1.4.1.1.77.1.2.1", // Video Microscopic
    "1.2.840.10008.5.1.4.1.1.77.1.4.1", // Video Photographic
];

fn sop_class(obj: &DefaultDicomObject) -> String {
    obj.get(tags::SOP_CLASS_UID)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            obj.meta()
                .media_storage_sop_class_uid()
                .trim_end_matches('\0')
                .to_string()
        })
}

fn modality(obj: &DefaultDicomObject) -> String {
    obj.get(tags::MODALITY)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim().to_ascii_uppercase())
        .unwrap_or_default()
}

/// Ultrasound object: an ultrasound SOP class, or modality US in a class that is not a
/// screen capture.
pub(crate) fn is_ultrasound(obj: &DefaultDicomObject) -> bool {
    let class = sop_class(obj);
    US_CLASSES.contains(&class.as_str()) || (modality(obj) == "US" && screen_capture(obj).is_none())
}

/// Screens and photographs: no layout can be trusted to hold all text.
fn screen_capture(obj: &DefaultDicomObject) -> Option<&'static str> {
    let class = sop_class(obj);
    if SC_CLASSES.contains(&class.as_str()) {
        Some("secondary capture")
    } else if VIDEO_CLASSES.contains(&class.as_str()) {
        Some("video")
    } else if obj.get(tags::CONVERSION_TYPE).is_some() {
        Some("screen capture (Conversion Type present)")
    } else {
        None
    }
}

pub(crate) fn assess(obj: &DefaultDicomObject) -> Assessment {
    let value = obj
        .get(tags::BURNED_IN_ANNOTATION)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_ascii_uppercase());
    let capture = screen_capture(obj).is_some();
    match value.as_deref() {
        Some("YES") => Assessment::BurnedInText {
            why: "Burned In Annotation is YES",
        },
        Some("NO") if capture => Assessment::BurnedInText {
            why: "screen capture or video: Burned In Annotation NO is not trusted",
        },
        Some("NO") => Assessment::NoBurnedInText,
        Some(v) if !v.is_empty() => Assessment::BurnedInText {
            why: "Burned In Annotation has an unrecognised value",
        },
        _ if capture => Assessment::BurnedInText {
            why: "Burned In Annotation absent on a screen capture or video",
        },
        _ if is_ultrasound(obj) => Assessment::BurnedInText {
            why: "Burned In Annotation absent on an ultrasound object",
        },
        _ => Assessment::NoBurnedInText,
    }
}

/// Classes [`super::clean`] refuses whatever their attributes say.
pub(crate) fn uncleanable_class(obj: &DefaultDicomObject) -> Option<&'static str> {
    screen_capture(obj).map(|kind| match kind {
        "video" => "video objects have no known text layout",
        _ => "screen captures have no known text layout",
    })
}
