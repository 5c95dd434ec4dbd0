//! Put the cleaned pixels back with a consistent image pixel module and transfer syntax.

use dicom_core::value::{C, PixelFragmentSequence, Value};
use dicom_core::{PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_object::mem::InMemElement;

use super::frames::Written;
use super::geometry::{Geometry, Photometric};
use super::palette::Plan;

pub(crate) const NATIVE_TS: &str = "1.2.840.10008.1.2.1";
pub(crate) const RLE_TS: &str = "1.2.840.10008.1.2.5";

/// Transfer syntaxes that are lossy by definition; decompressing must not hide that.
const ALWAYS_LOSSY: &[(&str, &str)] = &[
    ("1.2.840.10008.1.2.4.50", "ISO_10918_1"),
    ("1.2.840.10008.1.2.4.51", "ISO_10918_1"),
];

const PALETTE_TAGS: [Tag; 10] = [
    tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
    tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
    tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
    tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    tags::PALETTE_COLOR_LOOKUP_TABLE_UID,
];

pub(crate) fn finish(
    obj: &mut DefaultDicomObject,
    geo: &Geometry,
    ts: &str,
    plan: &Plan,
    written: Written,
) -> &'static str {
    let to_rgb = plan.to_rgb.is_some();
    let out_ts = if matches!(written, Written::Fragments(_)) {
        RLE_TS
    } else {
        NATIVE_TS
    };
    let (value, vr) = match written {
        Written::Fragments(frags) => {
            // Basic Offset Table: each fragment item adds its 8-byte header.
            let mut offsets = C::with_capacity(frags.len());
            let mut pos = 0u32;
            for f in &frags {
                offsets.push(pos);
                pos += f.len() as u32 + 8;
            }
            let seq = PixelFragmentSequence::new(offsets, frags);
            (Value::from(seq), VR::OB)
        }
        Written::Store(store) => {
            let vr = if matches!(store, super::store::Store::Words(_)) {
                VR::OW
            } else {
                VR::OB
            };
            (Value::from(store.into_value()), vr)
        }
        Written::Bytes(bytes) if geo.bits_allocated == 16 && !to_rgb => {
            let words: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            (Value::from(PrimitiveValue::U16(C::from_vec(words))), VR::OW)
        }
        Written::Bytes(mut bytes) => {
            if bytes.len() % 2 == 1 {
                bytes.push(0);
            }
            (Value::from(PrimitiveValue::U8(C::from_vec(bytes))), VR::OB)
        }
    };
    obj.put(InMemElement::new(tags::PIXEL_DATA, vr, value));

    if to_rgb
        || matches!(
            geo.photometric,
            Photometric::YbrFull | Photometric::YbrFull422 | Photometric::YbrIctOrRct
        )
    {
        put_str(obj, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "RGB");
    }
    if to_rgb {
        for (tag, v) in [
            (tags::SAMPLES_PER_PIXEL, 3u16),
            (tags::BITS_ALLOCATED, 8),
            (tags::BITS_STORED, 8),
            (tags::HIGH_BIT, 7),
            (tags::PIXEL_REPRESENTATION, 0),
        ] {
            obj.put(InMemElement::new(tag, VR::US, PrimitiveValue::from(v)));
        }
        for tag in PALETTE_TAGS {
            obj.remove_element(tag);
        }
    }
    if geo.samples == 3 || to_rgb {
        obj.put(InMemElement::new(
            tags::PLANAR_CONFIGURATION,
            VR::US,
            PrimitiveValue::from(0u16),
        ));
    }
    // The icon is a thumbnail of the same screen, text band included.
    obj.remove_element(tags::ICON_IMAGE_SEQUENCE);
    // Offsets into the old encapsulated stream mean nothing for the rewritten data.
    obj.remove_element(tags::EXTENDED_OFFSET_TABLE);
    obj.remove_element(tags::EXTENDED_OFFSET_TABLE_LENGTHS);

    if let Some((_, method)) = ALWAYS_LOSSY.iter().find(|(uid, _)| *uid == ts) {
        put_str(obj, tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "01");
        if obj.get(tags::LOSSY_IMAGE_COMPRESSION_METHOD).is_none() {
            put_str(obj, tags::LOSSY_IMAGE_COMPRESSION_METHOD, VR::CS, method);
        }
    }
    obj.update_meta(|meta| meta.transfer_syntax = out_ts.to_string());
    out_ts
}

fn put_str(obj: &mut DefaultDicomObject, tag: Tag, vr: VR, value: &str) {
    obj.put(InMemElement::new(tag, vr, PrimitiveValue::from(value)));
}
