//! PS3.15 Table E.1-1 (generated) and the resolution of a row's action for a profile.

mod generated;

use std::collections::HashMap;
use std::sync::LazyLock;

use dicom_core::Tag;

use crate::profile::{DateOption, Profile};

pub use generated::EDITION;

/// Action codes of Table E.1-1, combined codes included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    D,
    Z,
    X,
    K,
    C,
    U,
    ZD,
    XZ,
    XD,
    XZD,
    /// X/Z/U*: a sequence whose UIDs are replaced.
    XZU,
}

/// The option columns: `Some(K)` or `Some(C)` where the option changes the action.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub safe_private: Option<Action>,
    pub uids: Option<Action>,
    pub device_identity: Option<Action>,
    pub institution_identity: Option<Action>,
    pub patient_characteristics: Option<Action>,
    pub full_dates: Option<Action>,
    pub modified_dates: Option<Action>,
    pub clean_descriptors: Option<Action>,
    pub clean_structured_content: Option<Action>,
    pub clean_graphics: Option<Action>,
}

#[derive(Debug)]
pub struct Row {
    /// Tag as `gggg_eeee`, with the wildcard digits zeroed.
    pub tag: u32,
    /// Which bits of `tag` are fixed (`0x50xxxxxx` has mask `0xFF000000`).
    pub mask: u32,
    pub name: &'static str,
    pub basic: Action,
    pub options: Options,
}

pub fn rows() -> &'static [Row] {
    generated::ROWS
}

pub fn private_row() -> &'static Row {
    &generated::PRIVATE
}

static EXACT: LazyLock<HashMap<u32, &'static Row>> = LazyLock::new(|| {
    generated::ROWS.iter().filter(|r| r.mask == u32::MAX).map(|r| (r.tag, r)).collect()
});

/// The row for a public tag, if the table lists it.
pub fn lookup(tag: Tag) -> Option<&'static Row> {
    let key = (u32::from(tag.0) << 16) | u32::from(tag.1);
    if let Some(row) = EXACT.get(&key) {
        return Some(row);
    }
    generated::ROWS.iter().find(|r| r.mask != u32::MAX && key & r.mask == r.tag)
}

/// Tags the engine treats as Type 1 in the IODs that carry them, so that a
/// combined code (Z/D, X/D, X/Z/D) must take D to keep the object valid.
/// Everything else takes the emptier choice: a Type 2 or 3 attribute may
/// always be zero length.
const TYPE1_FOR_DUMMY: &[Tag] = &[
    Tag(0x0010, 0x0020), // Patient ID: a pseudonym, so one patient stays one patient
    Tag(0x0008, 0x0023), // Content Date: Type 1 in SR and enhanced objects
    Tag(0x0008, 0x0033), // Content Time
    Tag(0x0018, 0x1000), // Device Serial Number: Type 1 in Enhanced General Equipment
    Tag(0x0008, 0x002A), // Acquisition DateTime: Type 1C in enhanced images
    Tag(0x0008, 0x0021), // Series Date: Type 1 in PET Series
    Tag(0x0008, 0x0031), // Series Time: Type 1 in PET Series
    Tag(0x300A, 0x0006), // RT Plan Date: Type 2, and X/D offers no Z
    Tag(0x300A, 0x0007), // RT Plan Time
];

/// Attributes that must have a value where they occur (Type 1) although the
/// table says X or doesn't list them: they get a dummy (descriptive labels
/// are cleaned instead under Clean Descriptors).
pub const TYPE1_NEEDS_VALUE: &[Tag] = &[
    Tag(0x0070, 0x0082), // Presentation Creation Date
    Tag(0x0070, 0x0083), // Presentation Creation Time
    Tag(0x0062, 0x0005), // Segment Label
    Tag(0x0062, 0x0009), // Segment Algorithm Name
    Tag(0x0062, 0x0020), // Tracking ID
];

/// Attributes that are Type 2 wherever they occur: removing them would make
/// the object invalid, so X becomes Z (an empty value leaks nothing).
pub const TYPE2_EMPTY: &[Tag] = &[
    Tag(0x0020, 0x1040), // Position Reference Indicator (Frame of Reference)
    Tag(0x0042, 0x0010), // Document Title (Encapsulated Document)
    Tag(0x0070, 0x0081), // Content Description (Content Identification)
];

/// The simple action (D, Z, X, K, C or U) that `row` takes under `profile`.
pub fn resolve(row: &Row, tag: Tag, profile: &Profile) -> Action {
    let o = &row.options;
    let mut chosen: Option<Action> = None;
    let mut consider = |a: Option<Action>| {
        // When two options disagree (one keeps, one cleans), cleaning wins.
        if let Some(a) = a {
            chosen = Some(match (chosen, a) {
                (Some(Action::C), _) | (_, Action::C) => Action::C,
                _ => a,
            });
        }
    };
    if profile.retain_device_identity {
        consider(o.device_identity);
    }
    if profile.retain_patient_characteristics {
        consider(o.patient_characteristics);
    }
    match profile.retain_dates {
        DateOption::Remove => {}
        DateOption::Full => consider(o.full_dates),
        DateOption::Shift => consider(o.modified_dates),
    }
    if profile.clean_descriptors {
        consider(o.clean_descriptors);
    }
    if let Some(a) = chosen {
        return a;
    }
    let type1 = TYPE1_FOR_DUMMY.contains(&tag);
    let combined = matches!(row.basic, Action::XZ | Action::XD | Action::XZD | Action::ZD);
    if combined && row.name.starts_with("Referenced") && row.name.ends_with("Sequence") {
        // A reference sequence holds only class and instance UIDs: kept with
        // its UIDs replaced (as U* allows) it stays valid where it is Type 1 or
        // 1C, and an empty one would be invalid where it is Type 3.
        return Action::U;
    }
    match row.basic {
        Action::XZ => Action::Z,
        Action::XD => if type1 { Action::D } else { Action::X },
        Action::XZD | Action::ZD => if type1 { Action::D } else { Action::Z },
        Action::XZU => Action::U,
        a => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_row_of_the_edition() {
        assert_eq!(rows().len() + 1, 621);
        assert_eq!(EDITION, "2024b");
    }

    #[test]
    fn wildcards_and_exact_rows_are_found() {
        assert_eq!(lookup(Tag(0x0010, 0x0010)).unwrap().name, "Patient's Name");
        assert_eq!(lookup(Tag(0x6002, 0x3000)).unwrap().name, "Overlay Data");
        assert_eq!(lookup(Tag(0x5004, 0x0010)).unwrap().name, "Curve Data");
        assert!(lookup(Tag(0x0028, 0x0010)).is_none(), "Rows is not in the table");
    }

    #[test]
    fn options_change_actions() {
        let acq = lookup(Tag(0x0008, 0x0022)).unwrap();
        let tag = Tag(0x0008, 0x0022);
        assert_eq!(resolve(acq, tag, &Profile::default()), Action::Z);
        let full = Profile { retain_dates: DateOption::Full, ..Profile::default() };
        assert_eq!(resolve(acq, tag, &full), Action::K);
        let shift = Profile { retain_dates: DateOption::Shift, ..Profile::default() };
        assert_eq!(resolve(acq, tag, &shift), Action::C);
        let serial = lookup(Tag(0x0018, 0x1000)).unwrap();
        assert_eq!(resolve(serial, Tag(0x0018, 0x1000), &Profile::default()), Action::D);
        let dev = Profile { retain_device_identity: true, ..Profile::default() };
        assert_eq!(resolve(serial, Tag(0x0018, 0x1000), &dev), Action::K);
    }
}
