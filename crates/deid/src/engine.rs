//! The header walk: every attribute at every depth gets the action of its
//! Table E.1-1 row, or is kept because it is on the safe technical list, or is
//! removed.

use std::collections::{BTreeMap, HashSet};

use dicom_core::header::Header;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::{DataElement, Length, Tag, VR};
use dicom_object::mem::{InMemDicomObject, InMemElement};

use crate::ident::Identifiers;
use crate::private::SafePrivate;
use crate::profile::{DateOption, Profile, ShareKeys};
use crate::table::{self, Action};
use crate::uid::{UidMapper, CLASS_UID_TAGS};
use crate::values;

pub struct Engine<'a> {
    pub profile: &'a Profile,
    pub keys: &'a ShareKeys,
    pub uids: &'a UidMapper,
    pub ids: &'a Identifiers,
    /// Top-level content attributes kept intact (documents, SR, presentation states).
    pub keep_content: &'a [Tag],
    /// Counts per action, for the report.
    pub counts: BTreeMap<&'static str, u64>,
}

impl Engine<'_> {
    pub fn run(&mut self, obj: InMemDicomObject) -> InMemDicomObject {
        self.object(obj, 0)
    }

    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    fn object(&mut self, obj: InMemDicomObject, depth: usize) -> InMemDicomObject {
        let safe_private = if self.profile.retain_safe_private { SafePrivate::select(&obj) } else { HashSet::new() };
        let mut out = Vec::new();
        for e in obj {
            if let Some(e) = self.element(e, depth, &safe_private) {
                out.push(e);
            }
        }
        InMemDicomObject::from_element_iter(out)
    }

    fn element(&mut self, e: InMemElement, depth: usize, safe_private: &HashSet<Tag>) -> Option<InMemElement> {
        let tag = e.tag();
        if tag.0 % 2 == 1 {
            if safe_private.contains(&tag) {
                self.count("K_safe_private");
                return Some(e);
            }
            self.count("X_private");
            return None;
        }
        if tag.0 == 0x0002 || tag.1 == 0x0000 || tag == Tag(0x0008, 0x0005) || tag.0 >= 0xFFFA || tag.0 == 0x0400 {
            // File meta (rebuilt), group lengths (recomputed by readers), the
            // character set (set once at the top), signatures and padding.
            self.count("X");
            return None;
        }
        if matches!(tag.0 & 0xFF00, 0x5000 | 0x6000) && tag.0 <= 0x60FF {
            self.count("X_overlay_curve");
            return None;
        }
        if depth == 0 && self.keep_content.contains(&tag) {
            self.count("K_content");
            return Some(self.map_uids_verbatim(e));
        }
        let e = if e.vr() == VR::UN { crate::reinterpret::un_to_known(e, depth)? } else { e };
        if let Some(row) = table::lookup(tag) {
            let action = if tag == Tag(0x0010, 0x0010) { Action::D } else { table::resolve(row, tag, self.profile) };
            return self.apply(action, e, depth);
        }
        if crate::allow::is_safe(tag) {
            self.count("K_allowlist");
            return Some(self.keep(e, depth));
        }
        if table::TYPE1_NEEDS_VALUE.contains(&tag) {
            return self.apply(if self.profile.clean_descriptors { Action::C } else { Action::D }, e, depth);
        }
        if table::TYPE2_EMPTY.contains(&tag) {
            self.count("Z");
            return Some(values::empty(tag, e.vr()));
        }
        self.count("X_not_allowlisted");
        None
    }

    fn apply(&mut self, action: Action, e: InMemElement, depth: usize) -> Option<InMemElement> {
        let (tag, vr) = (e.tag(), e.vr());
        match action {
            Action::X if table::TYPE1_NEEDS_VALUE.contains(&tag) => {
                self.count("D");
                Some(values::dummy(tag, vr, &e, self.keys))
            }
            Action::X if table::TYPE2_EMPTY.contains(&tag) => {
                self.count("Z");
                Some(values::empty(tag, vr))
            }
            Action::X => {
                self.count("X");
                None
            }
            Action::Z => {
                self.count("Z");
                Some(values::empty(tag, vr))
            }
            Action::D if vr == VR::SQ => {
                // A dummy sequence: the items are cleaned attribute by attribute.
                self.count("D");
                Some(self.keep(e, depth))
            }
            Action::D => {
                self.count("D");
                Some(values::dummy(tag, vr, &e, self.keys))
            }
            Action::K => {
                self.count("K");
                Some(self.keep(e, depth))
            }
            Action::C => {
                self.count("C");
                Some(self.clean(e, depth))
            }
            Action::U => {
                self.count("U");
                Some(self.keep(e, depth))
            }
            // `resolve` never returns combined codes.
            _ => {
                self.count("X");
                None
            }
        }
    }

    /// Keeps an attribute: sequences are walked, UIDs replaced.
    fn keep(&mut self, e: InMemElement, depth: usize) -> InMemElement {
        let tag = e.tag();
        let vr = e.vr();
        match e.into_value() {
            Value::Sequence(seq) => {
                let items: Vec<InMemDicomObject> =
                    seq.into_items().into_iter().map(|item| self.object(item, depth + 1)).collect();
                DataElement::new(tag, VR::SQ, Value::new_sequence(items, Length::UNDEFINED))
            }
            Value::Primitive(p) if vr == VR::UI => DataElement::new(tag, vr, self.map_uid_value(tag, p)),
            Value::Primitive(PrimitiveValue::Strs(s)) => {
                // Padding (NULs from some writers) is re-added by the encoder as needed.
                let s: Vec<String> = s.iter().map(|v| v.trim_end_matches(['\0', ' ']).to_string()).collect();
                DataElement::new(tag, vr, PrimitiveValue::Strs(s.into()))
            }
            Value::Primitive(PrimitiveValue::Str(s)) => {
                DataElement::new(tag, vr, PrimitiveValue::from(s.trim_end_matches(['\0', ' ']).to_string()))
            }
            other => DataElement::new(tag, vr, other),
        }
    }

    /// The C action: dates shifted (Modified Dates), text cleaned (Clean Descriptors).
    fn clean(&mut self, e: InMemElement, depth: usize) -> InMemElement {
        let (tag, vr) = (e.tag(), e.vr());
        match vr {
            VR::SQ | VR::UI => self.keep(e, depth),
            VR::DA | VR::DT => {
                if self.profile.retain_dates == DateOption::Shift {
                    let s = e.to_str().map(|s| s.into_owned()).unwrap_or_default();
                    DataElement::new(tag, vr, PrimitiveValue::from(values::shift_dates(&s, self.keys.date_shift_days())))
                } else if self.profile.retain_dates == DateOption::Full {
                    e
                } else {
                    values::empty(tag, vr)
                }
            }
            VR::TM => e,
            VR::LO | VR::SH | VR::ST | VR::LT | VR::UT | VR::UC | VR::CS | VR::PN => {
                let ids = self.ids;
                let is_id = |w: &str| ids.is_identifying_word(w);
                let parts: Vec<String> = match e.value().primitive() {
                    Some(PrimitiveValue::Strs(s)) => s.iter().map(|v| values::scrub_text(v, &is_id)).collect(),
                    Some(p) => vec![values::scrub_text(&p.to_str(), &is_id)],
                    None => Vec::new(),
                };
                DataElement::new(tag, vr, PrimitiveValue::Strs(parts.into()))
            }
            _ => e,
        }
    }

    /// Content kept intact: only instance UIDs are replaced, so references stay
    /// consistent with the rest of the share.
    fn map_uids_verbatim(&mut self, e: InMemElement) -> InMemElement {
        let (tag, vr) = (e.tag(), e.vr());
        match e.into_value() {
            Value::Sequence(seq) => {
                let items: Vec<InMemDicomObject> = seq
                    .into_items()
                    .into_iter()
                    .map(|item| {
                        let elems: Vec<InMemElement> = item
                            .into_iter()
                            .filter(|c| c.tag() != Tag(0x0008, 0x0005))
                            .map(|c| self.map_uids_verbatim(c))
                            .collect();
                        InMemDicomObject::from_element_iter(elems)
                    })
                    .collect();
                DataElement::new(tag, VR::SQ, Value::new_sequence(items, Length::UNDEFINED))
            }
            Value::Primitive(p) if vr == VR::UI => DataElement::new(tag, vr, self.map_uid_value(tag, p)),
            other => DataElement::new(tag, vr, other),
        }
    }

    fn map_uid_value(&self, tag: Tag, p: PrimitiveValue) -> PrimitiveValue {
        if CLASS_UID_TAGS.contains(&tag) {
            return p;
        }
        let uids: Vec<String> = match &p {
            PrimitiveValue::Strs(s) => s.iter().map(|u| self.uids.map(u)).collect(),
            PrimitiveValue::Str(s) => s.split('\\').map(|u| self.uids.map(u)).collect(),
            PrimitiveValue::Empty => return p,
            other => other.to_str().split('\\').map(|u| self.uids.map(u)).collect(),
        };
        PrimitiveValue::Strs(uids.into())
    }
}
