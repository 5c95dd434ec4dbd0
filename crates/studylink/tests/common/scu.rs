//! A minimal C-STORE SCU for tests that need to see each response (dcmtk
//! tools only report totals). Speaks the protocol through dicom-ul's client.

use std::io::Write;
use std::net::SocketAddr;

use dicom_core::{dicom_value, DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicom_ul::association::client::ClientAssociationOptions;
use dicom_ul::association::ClientAssociation;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu};

pub struct Scu {
    assoc: ClientAssociation<std::net::TcpStream>,
    next_id: u16,
}

impl Scu {
    /// One presentation context per (SOP class, transfer syntax) pair.
    pub fn connect(addr: SocketAddr, contexts: &[(&str, &str)]) -> Result<Scu, dicom_ul::association::Error> {
        let mut opts = ClientAssociationOptions::new().calling_ae_title("TESTSCU").called_ae_title("STUDYLINK");
        for (class, ts) in contexts {
            opts = opts.with_presentation_context(*class, vec![*ts]);
        }
        let assoc = opts.establish(addr)?;
        Ok(Scu { assoc, next_id: 1 })
    }

    /// Sends one data set (bytes after the file meta group) and returns the
    /// response status and error comment.
    pub fn store(&mut self, sop_class: &str, sop_instance: &str, ts: &str, dataset: &[u8]) -> std::io::Result<(u16, String)> {
        let pc = self
            .assoc
            .presentation_contexts()
            .iter()
            .find(|pc| {
                pc.abstract_syntax.trim_end_matches('\0') == sop_class
                    && pc.transfer_syntax.trim_end_matches('\0') == ts
                    && pc.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance
            })
            .map(|pc| pc.id)
            .ok_or_else(|| std::io::Error::other("no accepted presentation context"))?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut cmd = InMemDicomObject::new_empty();
        cmd.put(DataElement::new(tags::AFFECTED_SOP_CLASS_UID, VR::UI, PrimitiveValue::from(even(sop_class))));
        cmd.put(DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [0x0001])));
        cmd.put(DataElement::new(tags::MESSAGE_ID, VR::US, dicom_value!(U16, [id])));
        cmd.put(DataElement::new(tags::PRIORITY, VR::US, dicom_value!(U16, [0])));
        cmd.put(DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [0])));
        cmd.put(DataElement::new(tags::AFFECTED_SOP_INSTANCE_UID, VR::UI, PrimitiveValue::from(even(sop_instance))));
        let mut body = Vec::new();
        cmd.write_dataset_with_ts(&mut body, &IMPLICIT_VR_LITTLE_ENDIAN.erased()).unwrap();
        let mut bytes = vec![0, 0, 0, 0, 4, 0, 0, 0];
        bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&body);
        let io = |e: dicom_ul::association::Error| std::io::Error::other(e.to_string());
        self.assoc
            .send(&Pdu::PData {
                data: vec![PDataValue { presentation_context_id: pc, value_type: PDataValueType::Command, is_last: true, data: bytes }],
            })
            .map_err(io)?;
        {
            let mut w = self.assoc.send_pdata(pc);
            w.write_all(dataset)?;
            w.finish()?;
        }
        match self.assoc.receive().map_err(io)? {
            Pdu::PData { data } => {
                let rsp = InMemDicomObject::read_dataset_with_ts(&data[0].data[..], &IMPLICIT_VR_LITTLE_ENDIAN.erased())
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let status = rsp.element(tags::STATUS).unwrap().to_int::<u16>().unwrap();
                let comment = rsp
                    .element(tags::ERROR_COMMENT)
                    .ok()
                    .and_then(|e| e.to_str().ok().map(|s| s.trim().to_string()))
                    .unwrap_or_default();
                Ok((status, comment))
            }
            other => Err(std::io::Error::other(format!("unexpected PDU {other:?}"))),
        }
    }

    pub fn release(self) {
        let _ = self.assoc.release();
    }
}

fn even(s: &str) -> String {
    let mut s = s.to_string();
    if s.len() % 2 == 1 {
        s.push('\0');
    }
    s
}
