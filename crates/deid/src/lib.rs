//! De-identification of DICOM objects (PS3.15 Annex E) for patient links.
//!
//! Pure: bytes in, bytes out, plus a report. No HTTP, no database, no files.
//!
//! Order of work for one object: parse (bounded, lenient) → gather the input's
//! identifying values → pixels (assessment and cleaning need the original
//! header) → header walk (Table E.1-1 + safe allow-list, UIDs, dates) → mark
//! the object de-identified → write → verify the output bytes (fail closed).

mod allow;
mod classify;
mod engine;
mod hmac;
pub mod ident;
mod meta;
mod parse;
mod pixel_bridge;
mod pixel_scan;
pub mod pixels;
mod private;
mod profile;
mod reinterpret;
mod report;
pub mod table;
mod text;
mod uid;
mod values;
mod verify;

use std::collections::BTreeMap;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Length, Tag, VR};
use dicom_object::mem::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use sha2::{Digest, Sha256};

pub use crate::pixel_bridge::PixelOutcome;
pub use crate::profile::{DateOption, Profile, ShareKeys};
pub use crate::report::{Classification, ObjectReport};
pub use crate::table::EDITION as TABLE_EDITION;
pub use crate::text::{TextFinder, Word};
pub use crate::uid::is_well_known as is_well_known_uid;

/// Our implementation class UID (a fixed 2.25 UUID) and version name.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.246912457820563940745618270153496820935";
pub const IMPLEMENTATION_VERSION_NAME: &str = "STUDYLINK_DEID1";

/// The result for one input object.
#[derive(Debug)]
pub struct Outcome {
    pub classification: Classification,
    /// The de-identified file (Part 10), absent when rejected. From
    /// [`Deidentifier::deidentify_split`], only its beginning: see `tail`.
    pub output: Option<Vec<u8>>,
    /// From [`Deidentifier::deidentify_split`]: the rest of the output is
    /// these bytes of the input (pixel data that needed no cleaning).
    pub tail: Option<Range<usize>>,
    pub new_sop_instance_uid: Option<String>,
    pub report: ObjectReport,
}

/// What [`check_text`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum TextChecked {
    /// No identifying word was read: the object is as it was.
    Unchanged,
    /// `words` identifying words were blanked in every frame; `output` is the
    /// rewritten Part 10 file.
    Blanked { output: Vec<u8>, words: usize },
}

/// The text check of [`Deidentifier::with_text_finder`], run later: on an
/// object that [`Deidentifier::deidentify`] wrote with its pixels cleaned
/// (without a finder), so that a caller can hand the cleaned object on first
/// and hold back what patients see until it is checked. The identifying
/// values come from `original`'s header (its pixels are not read). Errors
/// (the finder's included) carry no patient data; the caller must then treat
/// the object as unchecked.
pub fn check_text(original: &[u8], deidentified: &[u8], finder: &dyn TextFinder) -> Result<TextChecked, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let ids = ident::Identifiers::collect(&parse::parse_header(original)?.obj);
        let tokens = text::Tokens::from_identifiers(&ids);
        if tokens.is_empty() {
            return Ok(TextChecked::Unchanged);
        }
        let mut obj = parse::parse(deidentified)?.obj;
        let check = pixels::words::TextCheck { finder, tokens: &tokens };
        let words = pixels::words::recheck(&mut obj, &check).map_err(|e| e.to_string())?;
        if words == 0 {
            return Ok(TextChecked::Unchanged);
        }
        let mut output = Vec::with_capacity(deidentified.len());
        obj.write_all(&mut output)
            .map_err(|e| format!("cannot encode the checked object: {}", parse::safe_error(&e)))?;
        Ok(TextChecked::Blanked { output, words })
    }))
    .unwrap_or_else(|_| Err("internal error while checking an image for text".into()))
}

/// De-identifies objects for one share: every object given to the same
/// `Deidentifier` gets consistent UIDs and pseudonyms.
#[derive(Debug, Clone)]
pub struct Deidentifier {
    profile: Profile,
    keys: ShareKeys,
    uids: uid::UidMapper,
    text: Option<std::sync::Arc<dyn TextFinder>>,
}

impl Deidentifier {
    pub fn new(profile: Profile, keys: ShareKeys) -> Self {
        let uids = uid::UidMapper::new(&keys);
        Deidentifier { profile, keys, uids, text: None }
    }

    /// Reads the image area of every object whose pixels are cleaned with
    /// `finder` (OCR) and blanks the words that match the input's identifying
    /// values. A finder that fails leaves the object not `clean` (fail closed).
    pub fn with_text_finder(mut self, finder: std::sync::Arc<dyn TextFinder>) -> Self {
        self.text = Some(finder);
        self
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The share's replacement for a UID (what `deidentify` writes for it).
    pub fn map_uid(&self, uid: &str) -> String {
        self.uids.map(uid)
    }

    /// De-identifies one Part 10 file (or a bare data set). Never panics: an
    /// internal failure rejects the object. Pixel data that needs no cleaning
    /// is neither decoded nor parsed: it is copied to the output as it is.
    pub fn deidentify(&self, input: &[u8]) -> Outcome {
        self.guarded(input, true, false)
    }

    /// As `deidentify`, but pixel data that is kept as it was is not copied:
    /// the output is `output` followed by `input[tail]`. For callers that
    /// write the result out (a 300 MB cine is then never copied in memory).
    pub fn deidentify_split(&self, input: &[u8]) -> Outcome {
        self.guarded(input, true, true)
    }

    /// As `deidentify`, but always reading the whole object into memory (for
    /// tests comparing both paths).
    #[doc(hidden)]
    pub fn deidentify_full_read(&self, input: &[u8]) -> Outcome {
        self.guarded(input, false, false)
    }

    fn guarded(&self, input: &[u8], split: bool, refer_tail: bool) -> Outcome {
        match catch_unwind(AssertUnwindSafe(|| self.run(input, split, refer_tail))) {
            Ok(o) => o,
            Err(_) => self.rejected("internal error while de-identifying this object".into(), ObjectReport::default()),
        }
    }

    fn rejected(&self, reason: String, mut report: ObjectReport) -> Outcome {
        report.options = self.option_names();
        Outcome { classification: Classification::Rejected { reason }, output: None, tail: None, new_sop_instance_uid: None, report }
    }

    fn option_names(&self) -> Vec<String> {
        self.profile.option_names().into_iter().map(str::to_string).collect()
    }

    fn run(&self, input: &[u8], split: bool, refer_tail: bool) -> Outcome {
        let mut report = ObjectReport::default();
        let parsed = if split { parse::parse_header(input) } else { parse::parse(input) };
        let mut parsed = match parsed {
            Ok(p) => p,
            Err(reason) => return self.rejected(format!("unreadable: {reason}"), report),
        };
        // Pixels first: the cleaner needs the original Manufacturer, model and regions.
        let burned_in = pixel_bridge::assess(&parsed.obj);
        if burned_in.is_some() && parsed.raw_pixels.is_some() {
            parsed = match parse::parse(input) {
                Ok(p) => p,
                Err(reason) => return self.rejected(format!("unreadable: {reason}"), report),
            };
        }
        let raw_pixels = parsed.raw_pixels.clone();
        let mut obj = parsed.obj;
        report.sop_class_uid = Some(classify::sop_class(&obj)).filter(|s| !s.is_empty());
        report.input_transfer_syntax = Some(parsed.transfer_syntax.clone());
        if parsed.meta_missing {
            report.notes.push("no file meta information: transfer syntax inferred".into());
        }

        let ids = ident::Identifiers::collect(&obj);
        let content = classify::content(&obj);

        let pixels = match burned_in {
            None => PixelOutcome::NotNeeded,
            Some(why) => {
                // Tokens only when something will read the image.
                let tokens = self.text.as_ref().map(|_| text::Tokens::from_identifiers(&ids));
                let check = self
                    .text
                    .as_deref()
                    .zip(tokens.as_ref())
                    .map(|(finder, tokens)| pixels::words::TextCheck { finder, tokens });
                pixel_bridge::clean(&mut obj, why, check.as_ref(), &mut report.notes)
            }
        };
        report.pixels = match &pixels {
            PixelOutcome::NotNeeded => "not_needed",
            PixelOutcome::Cleaned => "cleaned",
            PixelOutcome::NotCleanable(_) => "not_cleanable",
        }
        .into();

        let mut ts = obj.meta().transfer_syntax().trim_end_matches('\0').to_string();
        if matches!(ts.as_str(), "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.4.95" | "1.2.840.10008.1.2.4.204") {
            // The raw-byte verification must see the bytes in the clear.
            ts = parse::EXPLICIT_VR_LE.to_string();
            report.notes.push("deflated data set written uncompressed".into());
        }
        let mut inner = obj.into_inner();
        let old_sop_instance = inner
            .get(Tag(0x0008, 0x0018))
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string())
            .filter(|s| !s.is_empty());
        let bia_yes = inner
            .get(Tag(0x0028, 0x0301))
            .and_then(|e| e.to_str().ok())
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("YES"));

        let mut engine = engine::Engine {
            profile: &self.profile,
            keys: &self.keys,
            uids: &self.uids,
            ids: &ids,
            keep_content: content.keep,
            counts: BTreeMap::new(),
        };
        inner = engine.run(inner);
        report.actions = engine.counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();

        let new_uid = match &old_sop_instance {
            Some(u) => self.uids.map(u),
            None => {
                report.notes.push("no SOP Instance UID: one was derived from the input's digest".into());
                self.uids.map(&format!("9.{}", u128::from_be_bytes(Sha256::digest(input)[..16].try_into().unwrap())))
            }
        };
        self.mark(&mut inner, &new_uid, &pixels, bia_yes);

        let sop_class = classify::sop_class(&inner);
        let meta = match FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(if sop_class.is_empty() { "1.2.840.10008.5.1.4.1.1.7".to_string() } else { sop_class })
            .media_storage_sop_instance_uid(new_uid.clone())
            .transfer_syntax(ts.clone())
            .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
            .implementation_version_name(IMPLEMENTATION_VERSION_NAME)
            .build()
        {
            Ok(m) => m,
            Err(_) => return self.rejected("cannot build file meta information for the output".into(), report),
        };
        let file = inner.with_exact_meta(meta);
        // Cleaned pixels of compressed input come out larger than they went in.
        let cleaned_pixels = match (&raw_pixels, file.get(Tag(0x7FE0, 0x0010))) {
            (None, Some(e)) => parse::encoded_len(e) as usize,
            _ => 0,
        };
        let mut out = Vec::with_capacity(input.len().max(cleaned_pixels + 65536) + 4096);
        if let Err(e) = file.write_all(&mut out) {
            return self.rejected(format!("cannot encode the de-identified object: {}", parse::safe_error(&e)), report);
        }
        // Uncleaned pixel data, located but never read, goes last as it was
        // (same transfer syntax, nothing after it survives de-identification).
        // Its element header is copied (the VR may need fixing); the value is
        // copied too unless the caller takes it from the input (`tail`).
        let mut tail = None;
        let pixel_range = match &raw_pixels {
            Some(r) => {
                let start = out.len();
                let header_end = (r.start + 12).min(r.end);
                out.extend_from_slice(&input[r.start..header_end]);
                // Encapsulated pixel data is OB; some writers say OW.
                if let Some(h) = out.get_mut(start..start + 12)
                    && h[8..12] == [0xFF; 4]
                    && &h[4..6] == b"OW"
                {
                    h[4..6].copy_from_slice(b"OB");
                }
                if refer_tail {
                    tail = Some(header_end..r.end);
                } else {
                    out.extend_from_slice(&input[header_end..r.end]);
                }
                Some(start..out.len())
            }
            None => file.get(Tag(0x7FE0, 0x0010)).map(|e| {
                let len = parse::encoded_len(e) as usize + 12;
                out.len().saturating_sub(len)..out.len()
            }),
        };

        // Verification, fail closed.
        let verifier = verify::Verifier::new(&ids);
        let mut findings = verify::Findings::default();
        verifier.scan_object(&file, &mut findings);
        verifier.scan_bytes(&out, pixel_range, "bytes", &mut findings);
        if let Some(t) = &tail {
            // The pixel data's value, and what may straddle the seam.
            verifier.scan_pixels(input, t.clone(), "bytes", &mut findings);
            verifier.scan_seam(&out, &input[t.clone()], "bytes", &mut findings);
        }
        report.verification = findings.kinds.iter().map(|k| k.label().to_string()).collect();
        report.verification_places = findings.places.iter().cloned().collect();
        report.options = self.option_names();
        report.output_transfer_syntax = Some(ts);

        let classification = if let Some(reason) = content.needs_password {
            Classification::NeedsPassword { reason }
        } else if let PixelOutcome::NotCleanable(why) = &pixels {
            Classification::NeedsPassword { reason: format!("burned-in text can't be removed: {why}") }
        } else if !findings.is_empty() {
            Classification::NeedsPassword { reason: findings.reason() }
        } else {
            Classification::Clean
        };
        Outcome { classification, output: Some(out), tail, new_sop_instance_uid: Some(new_uid), report }
    }

    /// Marks the object as de-identified (PS3.15 E.1.1 and the SOP Common module).
    fn mark(&self, obj: &mut InMemDicomObject, new_uid: &str, pixels: &PixelOutcome, bia_yes: bool) {
        let p = &self.profile;
        obj.put(DataElement::new(Tag(0x0008, 0x0005), VR::CS, PrimitiveValue::from("ISO_IR 192")));
        obj.put(DataElement::new(Tag(0x0008, 0x0018), VR::UI, PrimitiveValue::from(new_uid)));
        obj.put(DataElement::new(Tag(0x0012, 0x0062), VR::CS, PrimitiveValue::from("YES")));
        let mut method = vec![format!("PS3.15 E.1-1 {} Basic Profile", table::EDITION), "StudyLink deid".to_string()];
        method.extend(p.option_names().iter().map(|s| s.to_string()));
        obj.put(DataElement::new(Tag(0x0012, 0x0063), VR::LO, PrimitiveValue::Strs(method.into())));

        let mut codes = vec![("113100", "Basic Application Confidentiality Profile")];
        if *pixels == PixelOutcome::Cleaned {
            codes.push(("113101", "Clean Pixel Data Option"));
        }
        if p.clean_descriptors {
            codes.push(("113105", "Clean Descriptors Option"));
        }
        match p.retain_dates {
            DateOption::Remove => {}
            DateOption::Full => codes.push(("113106", "Retain Longitudinal Temporal Information Full Dates Option")),
            DateOption::Shift => {
                codes.push(("113107", "Retain Longitudinal Temporal Information Modified Dates Option"))
            }
        }
        if p.retain_patient_characteristics {
            codes.push(("113108", "Retain Patient Characteristics Option"));
        }
        if p.retain_device_identity {
            codes.push(("113109", "Retain Device Identity Option"));
        }
        if p.retain_safe_private {
            codes.push(("113111", "Retain Safe Private Option"));
        }
        let items: Vec<InMemDicomObject> = codes
            .into_iter()
            .map(|(value, meaning)| {
                InMemDicomObject::from_element_iter([
                    DataElement::new(Tag(0x0008, 0x0100), VR::SH, PrimitiveValue::from(value)),
                    DataElement::new(Tag(0x0008, 0x0102), VR::SH, PrimitiveValue::from("DCM")),
                    DataElement::new(Tag(0x0008, 0x0104), VR::LO, PrimitiveValue::from(meaning)),
                ])
            })
            .collect();
        obj.put(DataElement::new(Tag(0x0012, 0x0064), VR::SQ, DataSetSequence::new(items, Length::UNDEFINED)));
        let ltim = match p.retain_dates {
            DateOption::Remove => "REMOVED",
            DateOption::Full => "UNMODIFIED",
            DateOption::Shift => "MODIFIED",
        };
        obj.put(DataElement::new(Tag(0x0028, 0x0303), VR::CS, PrimitiveValue::from(ltim)));
        if *pixels == PixelOutcome::Cleaned {
            obj.put(DataElement::new(Tag(0x0028, 0x0301), VR::CS, PrimitiveValue::from("NO")));
        } else if bia_yes {
            obj.put(DataElement::new(Tag(0x0028, 0x0301), VR::CS, PrimitiveValue::from("YES")));
        }
    }
}
