//! DIMSE command sets: always Implicit VR Little Endian (PS3.7 §6.3.1).

use dicom_core::{dicom_value, DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;

pub const C_STORE_RQ: u16 = 0x0001;
pub const C_STORE_RSP: u16 = 0x8001;
pub const C_ECHO_RQ: u16 = 0x0030;
pub const C_ECHO_RSP: u16 = 0x8030;
/// Command Data Set Type value meaning "no data set follows".
pub const NO_DATA_SET: u16 = 0x0101;

pub const STATUS_SUCCESS: u16 = 0x0000;
/// Refused: out of resources (we could not store it).
pub const STATUS_OUT_OF_RESOURCES: u16 = 0xA700;
/// Error: data set does not match SOP class (or the request's UIDs).
pub const STATUS_MISMATCH: u16 = 0xA900;
/// Error: cannot understand.
pub const STATUS_CANNOT_UNDERSTAND: u16 = 0xC000;
/// Refused: SOP class not supported / unrecognised operation.
pub const STATUS_UNRECOGNIZED_OPERATION: u16 = 0x0211;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub field: u16,
    pub message_id: u16,
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub has_data_set: bool,
}

pub fn parse_command(bytes: &[u8]) -> Result<Command, String> {
    let obj = InMemDicomObject::read_dataset_with_ts(bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|e| format!("unreadable command set: {e}"))?;
    let int = |tag: Tag| -> Option<u16> { obj.element(tag).ok()?.to_int::<u16>().ok() };
    let text = |tag: Tag| -> String {
        obj.element(tag)
            .ok()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
            .unwrap_or_default()
    };
    Ok(Command {
        field: int(tags::COMMAND_FIELD).ok_or("command set without Command Field")?,
        message_id: int(tags::MESSAGE_ID).unwrap_or(0),
        sop_class_uid: text(tags::AFFECTED_SOP_CLASS_UID),
        sop_instance_uid: text(tags::AFFECTED_SOP_INSTANCE_UID),
        has_data_set: int(tags::COMMAND_DATA_SET_TYPE).is_some_and(|v| v != NO_DATA_SET),
    })
}

/// Encodes a response command (C-STORE-RSP, C-ECHO-RSP) with its group length.
pub fn response(field: u16, req: &Command, status: u16, comment: Option<&str>) -> Vec<u8> {
    let mut obj = InMemDicomObject::new_empty();
    if !req.sop_class_uid.is_empty() {
        obj.put(DataElement::new(tags::AFFECTED_SOP_CLASS_UID, VR::UI, PrimitiveValue::from(uid(&req.sop_class_uid))));
    }
    obj.put(DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [field])));
    obj.put(DataElement::new(tags::MESSAGE_ID_BEING_RESPONDED_TO, VR::US, dicom_value!(U16, [req.message_id])));
    obj.put(DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [NO_DATA_SET])));
    obj.put(DataElement::new(tags::STATUS, VR::US, dicom_value!(U16, [status])));
    if !req.sop_instance_uid.is_empty() {
        obj.put(DataElement::new(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(uid(&req.sop_instance_uid)),
        ));
    }
    if let Some(c) = comment {
        // Error Comment is LO: at most 64 characters, no backslash.
        let c: String = c.replace('\\', "/").chars().take(64).collect();
        obj.put(DataElement::new(tags::ERROR_COMMENT, VR::LO, PrimitiveValue::from(pad_even(c, ' '))));
    }
    let mut body = Vec::new();
    obj.write_dataset_with_ts(&mut body, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .expect("writing a command set to memory cannot fail");
    // (0000,0000) Command Group Length: implicit VR, 4-byte length, UL value.
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn uid(s: &str) -> String {
    pad_even(s.to_string(), '\0')
}

fn pad_even(mut s: String, pad: char) -> String {
    if s.len() % 2 == 1 {
        s.push(pad);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_round_trips() {
        let req = Command {
            field: C_STORE_RQ,
            message_id: 7,
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.7".into(),
            sop_instance_uid: "1.2.3".into(),
            has_data_set: true,
        };
        let bytes = response(C_STORE_RSP, &req, STATUS_CANNOT_UNDERSTAND, Some("bad \\ thing"));
        let obj = InMemDicomObject::read_dataset_with_ts(&bytes[..], &IMPLICIT_VR_LITTLE_ENDIAN.erased()).unwrap();
        assert_eq!(obj.element(tags::STATUS).unwrap().to_int::<u16>().unwrap(), STATUS_CANNOT_UNDERSTAND);
        assert_eq!(obj.element(tags::MESSAGE_ID_BEING_RESPONDED_TO).unwrap().to_int::<u16>().unwrap(), 7);
        let gl = obj.element(tags::COMMAND_GROUP_LENGTH).unwrap().to_int::<u32>().unwrap();
        assert_eq!(gl as usize, bytes.len() - 12);
        let parsed = parse_command(&bytes).unwrap();
        assert_eq!(parsed.field, C_STORE_RSP);
        assert_eq!(parsed.sop_instance_uid, "1.2.3");
        assert!(!parsed.has_data_set);
    }
}
