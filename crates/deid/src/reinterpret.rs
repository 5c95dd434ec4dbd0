//! Public attributes read with VR UN (explicit VR files written by tools that
//! didn't know the tag) are decoded with the dictionary's VR, so that the table
//! and the allow-list judge their real content and nested sequences get walked.

use dicom_core::header::Header;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::mem::InMemElement;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::allow::dictionary_vr;
use crate::parse::{read_elements, IMPLICIT_VR_LE, MAX_DEPTH};

/// `None` drops the attribute (it couldn't be decoded: unknown means unsafe).
pub fn un_to_known(e: InMemElement, depth: usize) -> Option<InMemElement> {
    let tag = e.tag();
    let Some(vr) = dictionary_vr(tag) else { return Some(e) };
    if vr == VR::UN {
        return Some(e);
    }
    let bytes = e.to_bytes().ok()?.into_owned();
    let value: PrimitiveValue = match vr {
        VR::SQ => {
            if depth >= MAX_DEPTH {
                return None;
            }
            return sequence(tag, &bytes);
        }
        VR::AE | VR::AS | VR::CS | VR::DA | VR::DS | VR::DT | VR::IS | VR::LO | VR::LT | VR::PN | VR::SH | VR::ST
        | VR::TM | VR::UC | VR::UI | VR::UR | VR::UT => {
            let text = match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
            };
            let text = text.trim_end_matches(['\0', ' ']);
            if matches!(vr, VR::LT | VR::ST | VR::UT | VR::UR) {
                PrimitiveValue::from(text.to_string())
            } else {
                PrimitiveValue::Strs(text.split('\\').map(|s| s.trim_end().to_string()).collect())
            }
        }
        VR::US => PrimitiveValue::U16(bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()),
        VR::SS => PrimitiveValue::I16(bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()),
        VR::UL => PrimitiveValue::U32(bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()),
        VR::SL => PrimitiveValue::I32(bytes.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect()),
        VR::FL => PrimitiveValue::F32(bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()),
        VR::FD => PrimitiveValue::F64(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()),
        _ => PrimitiveValue::U8(bytes.into()),
    };
    Some(DataElement::new(tag, vr, value))
}

/// Parses a sequence's value bytes (Implicit VR Little Endian, as PS3.5 6.2.2
/// requires for UN sequences) by wrapping them in an undefined-length element.
fn sequence(tag: Tag, bytes: &[u8]) -> Option<InMemElement> {
    let mut stream = Vec::with_capacity(bytes.len() + 16);
    stream.extend_from_slice(&tag.0.to_le_bytes());
    stream.extend_from_slice(&tag.1.to_le_bytes());
    stream.extend_from_slice(&u32::MAX.to_le_bytes());
    stream.extend_from_slice(bytes);
    stream.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    let ts = TransferSyntaxRegistry.get(IMPLICIT_VR_LE)?;
    let mut elements = read_elements(&stream, ts, Default::default()).ok()?;
    (elements.len() == 1 && elements[0].vr() == VR::SQ).then(|| elements.remove(0))
}
