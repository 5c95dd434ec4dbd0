//! DIMSE command sets: always Implicit VR Little Endian (PS3.7 §6.3.1).


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

/// Reads a command set. A hand-written walk rather than dicom-object: a
/// command set is a flat list of group-0000 elements, and dicom-object reports
/// the end of its input as an error whose backtrace (under `RUST_BACKTRACE=1`)
/// cost more than the rest of the command handling, twice per instance.
pub fn parse_command(bytes: &[u8]) -> Result<Command, String> {
    let mut cmd = Command { field: 0, message_id: 0, sop_class_uid: String::new(), sop_instance_uid: String::new(), has_data_set: false };
    let (mut field, mut data_set_type) = (None, None);
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((head, tail)) = rest.split_first_chunk::<8>() else {
            return Err("unreadable command set: truncated element header".into());
        };
        let group = u16::from_le_bytes([head[0], head[1]]);
        let element = u16::from_le_bytes([head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if group != 0x0000 {
            return Err(format!("unreadable command set: element ({group:04X},{element:04X}) outside group 0000"));
        }
        if len > tail.len() {
            return Err(format!("unreadable command set: element (0000,{element:04X}) runs past the end"));
        }
        let (value, next) = tail.split_at(len);
        let us = || -> Option<u16> { Some(u16::from_le_bytes(value.get(..2)?.try_into().ok()?)) };
        let ui = || String::from_utf8_lossy(value).trim_end_matches(['\0', ' ']).to_string();
        match element {
            0x0002 => cmd.sop_class_uid = ui(),
            0x0100 => field = us(),
            0x0110 => cmd.message_id = us().unwrap_or(0),
            0x0800 => data_set_type = us(),
            0x1000 => cmd.sop_instance_uid = ui(),
            _ => {}
        }
        rest = next;
    }
    cmd.field = field.ok_or("command set without Command Field")?;
    cmd.has_data_set = data_set_type.is_some_and(|v| v != NO_DATA_SET);
    Ok(cmd)
}

/// Encodes a response command (C-STORE-RSP, C-ECHO-RSP) with its group length,
/// elements in ascending tag order as PS3.5 §7.1 requires.
pub fn response(field: u16, req: &Command, status: u16, comment: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(160);
    if !req.sop_class_uid.is_empty() {
        put(&mut body, 0x0002, uid(&req.sop_class_uid).as_bytes());
    }
    put(&mut body, 0x0100, &field.to_le_bytes());
    put(&mut body, 0x0120, &req.message_id.to_le_bytes());
    put(&mut body, 0x0800, &NO_DATA_SET.to_le_bytes());
    put(&mut body, 0x0900, &status.to_le_bytes());
    if let Some(c) = comment {
        // Error Comment is LO: at most 64 characters, no backslash.
        let c: String = c.replace('\\', "/").chars().take(64).collect();
        put(&mut body, 0x0902, pad_even(c, ' ').as_bytes());
    }
    if !req.sop_instance_uid.is_empty() {
        put(&mut body, 0x1000, uid(&req.sop_instance_uid).as_bytes());
    }
    // (0000,0000) Command Group Length: implicit VR, 4-byte length, UL value.
    let mut out = Vec::with_capacity(body.len() + 12);
    put(&mut out, 0x0000, &(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// One Implicit VR Little Endian element of group 0000.
fn put(out: &mut Vec<u8>, element: u16, value: &[u8]) {
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
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
    use dicom_core::{dicom_value, DataElement, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    use dicom_object::InMemDicomObject;
    use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;

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

    /// A C-STORE-RQ as dicom-object writes it: our walk reads the same fields.
    #[test]
    fn parses_a_request_written_by_dicom_object() {
        let mut obj = InMemDicomObject::new_empty();
        obj.put(DataElement::new(tags::AFFECTED_SOP_CLASS_UID, VR::UI, PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.6.1\0")));
        obj.put(DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [C_STORE_RQ])));
        obj.put(DataElement::new(tags::MESSAGE_ID, VR::US, dicom_value!(U16, [42])));
        obj.put(DataElement::new(tags::PRIORITY, VR::US, dicom_value!(U16, [0])));
        obj.put(DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [0x0001])));
        obj.put(DataElement::new(tags::AFFECTED_SOP_INSTANCE_UID, VR::UI, PrimitiveValue::from("1.2.3.4 ")));
        let mut bytes = Vec::new();
        obj.write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased()).unwrap();
        let cmd = parse_command(&bytes).unwrap();
        assert_eq!(
            cmd,
            Command {
                field: C_STORE_RQ,
                message_id: 42,
                sop_class_uid: "1.2.840.10008.5.1.4.1.1.6.1".into(),
                sop_instance_uid: "1.2.3.4".into(),
                has_data_set: true,
            }
        );
    }

    #[test]
    fn a_broken_command_set_is_refused_with_a_reason() {
        let req = Command { field: C_ECHO_RQ, message_id: 1, sop_class_uid: "1.2".into(), sop_instance_uid: String::new(), has_data_set: false };
        let bytes = response(C_ECHO_RQ, &req, STATUS_SUCCESS, None);
        assert!(parse_command(&bytes[..bytes.len() - 1]).unwrap_err().contains("runs past the end"));
        assert!(parse_command(&bytes[..5]).unwrap_err().contains("truncated"));
        let mut other_group = bytes.clone();
        other_group[0] = 0x08;
        assert!(parse_command(&other_group).unwrap_err().contains("outside group 0000"));
        let mut no_field = Vec::new();
        put(&mut no_field, 0x0110, &1u16.to_le_bytes());
        assert_eq!(parse_command(&no_field).unwrap_err(), "command set without Command Field");
        assert!(parse_command(&[]).is_err());
    }
}
