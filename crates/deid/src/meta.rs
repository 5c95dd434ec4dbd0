//! The file meta group, read by hand, and guessing the encoding of a bare data set.

use dicom_core::VR;

use crate::parse::{EXPLICIT_VR_BE, EXPLICIT_VR_LE, IMPLICIT_VR_LE};

#[derive(Default)]
pub struct MetaValues {
    pub transfer_syntax: Option<String>,
    pub sop_class: Option<String>,
    pub sop_instance: Option<String>,
}

/// Reads group 0002 by hand (always Explicit VR Little Endian): tolerant of
/// missing elements, it only needs the transfer syntax and the SOP UIDs.
pub fn read_meta(input: &[u8], mut pos: usize) -> Result<(MetaValues, usize), String> {
    let mut meta = MetaValues::default();
    loop {
        if pos + 8 > input.len() {
            break;
        }
        let group = u16::from_le_bytes([input[pos], input[pos + 1]]);
        if group != 0x0002 {
            break;
        }
        let elem = u16::from_le_bytes([input[pos + 2], input[pos + 3]]);
        let vr = [input[pos + 4], input[pos + 5]];
        let (len, header) = if !vr.iter().all(u8::is_ascii_uppercase) {
            // Implicit VR in the meta group: seen in the wild, tolerated.
            (u32::from_le_bytes(input[pos + 4..pos + 8].try_into().unwrap()) as usize, 8)
        } else if matches!(&vr, b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN" | b"UC" | b"UR" | b"OD" | b"OL" | b"OV") {
            if pos + 12 > input.len() {
                return Err("the file meta information is truncated".into());
            }
            (u32::from_le_bytes(input[pos + 8..pos + 12].try_into().unwrap()) as usize, 12)
        } else {
            (usize::from(u16::from_le_bytes([input[pos + 6], input[pos + 7]])), 8)
        };
        if len == u32::MAX as usize || pos + header + len > input.len() {
            return Err("the file meta information is truncated or malformed".into());
        }
        let value = &input[pos + header..pos + header + len];
        let text = || {
            let s = String::from_utf8_lossy(value);
            let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string();
            (!s.is_empty()).then_some(s)
        };
        match elem {
            0x0002 => meta.sop_class = text(),
            0x0003 => meta.sop_instance = text(),
            0x0010 => meta.transfer_syntax = text(),
            _ => {}
        }
        pos += header + len;
    }
    Ok((meta, pos))
}

/// Guesses the encoding of a data set with no file meta information from its
/// first element header.
pub fn sniff_transfer_syntax(data: &[u8]) -> Result<String, String> {
    if data.len() < 8 {
        return Err("too short to be a DICOM data set".into());
    }
    let le_group = u16::from_le_bytes([data[0], data[1]]);
    let be_group = u16::from_be_bytes([data[0], data[1]]);
    let explicit = data[4].is_ascii_uppercase() && data[5].is_ascii_uppercase() && VR::from_binary([data[4], data[5]]).is_some();
    if le_group <= 0x00FF {
        Ok(if explicit { EXPLICIT_VR_LE } else { IMPLICIT_VR_LE }.to_string())
    } else if (0x0002..=0x00FF).contains(&be_group) && explicit {
        Ok(EXPLICIT_VR_BE.to_string())
    } else {
        Err("not a DICOM file: no DICM marker and no recognisable data set".into())
    }
}

