//! Public attributes that Table E.1-1 doesn't list but that are safe to keep:
//! technical description of the image and its acquisition. Anything neither
//! the table nor this list covers is removed (unknown means unsafe), which also
//! covers rows that newer editions of the standard add.

use dicom_core::dictionary::{DataDictionary, VirtualVr};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;
use std::collections::HashSet;
use std::sync::LazyLock;

static SAFE_SET: LazyLock<HashSet<u32>> = LazyLock::new(|| SAFE.iter().copied().collect());

/// Explicitly safe tags, as `gggg_eeee`.
const SAFE: &[u32] = &[
    // SOP common, general image/series technical values
    0x0008_0005, // Specific Character Set (rewritten by the engine)
    0x0008_0008, // Image Type
    0x0008_0016, // SOP Class UID
    0x0008_0060, // Modality
    0x0008_0064, // Conversion Type
    0x0008_0068, // Presentation Intent Type
    0x0008_0070, // Manufacturer (not in E.1-1; the pixel cleaner needs it)
    0x0008_1090, // Manufacturer's Model Name
    0x0008_0100, 0x0008_0102, 0x0008_0103, 0x0008_0104, 0x0008_0105, 0x0008_0106, 0x0008_0107, // code items
    0x0008_010B, 0x0008_010C, 0x0008_010D, 0x0008_010F, 0x0008_0117, 0x0008_0118, 0x0008_0119, 0x0008_0120,
    0x0008_0121, 0x0008_0122, 0x0008_0123, 0x0008_0124,
    0x0008_1150, // Referenced SOP Class UID
    0x0008_1155, // Referenced SOP Instance UID (the table's U applies anyway)
    0x0008_1160, // Referenced Frame Number
    0x0008_1163, // Referenced Segment Number
    0x0008_2112, // Source Image Sequence
    0x0008_2218, 0x0008_2220, 0x0008_2228, 0x0008_2230, // anatomic region / primary structure sequences
    0x0008_9205, 0x0008_9206, 0x0008_9207, 0x0008_9208, 0x0008_9209, 0x0008_9215, // enhanced image type, derivation code
    0x0008_9092, 0x0008_9121, 0x0008_9124, 0x0008_9154, 0x0008_9237,
    // acquisition (group 0018): technical parameters
    0x0018_0015, 0x0018_0020, 0x0018_0021, 0x0018_0022, 0x0018_0023, 0x0018_0024, 0x0018_0025,
    0x0018_0050, 0x0018_0060, 0x0018_0070, 0x0018_0071, 0x0018_0072, 0x0018_0073, 0x0018_0074, 0x0018_0075,
    0x0018_0080, 0x0018_0081, 0x0018_0082, 0x0018_0083, 0x0018_0084, 0x0018_0085, 0x0018_0086, 0x0018_0087,
    0x0018_0088, 0x0018_0089, 0x0018_0090, 0x0018_0091, 0x0018_0093, 0x0018_0094, 0x0018_0095,
    0x0018_1040, 0x0018_1041, 0x0018_1042, 0x0018_1043, 0x0018_1044, 0x0018_1046, 0x0018_1047, 0x0018_1048,
    0x0018_1049, 0x0018_1050, 0x0018_1060, 0x0018_1062, 0x0018_1063, 0x0018_1064, 0x0018_1065, 0x0018_1066,
    0x0018_1067, 0x0018_1068, 0x0018_1069, 0x0018_1070, 0x0018_1071, 0x0018_1081, 0x0018_1082, 0x0018_1083,
    0x0018_1084, 0x0018_1085, 0x0018_1086, 0x0018_1088, 0x0018_1090, 0x0018_1094, 0x0018_1100, 0x0018_1110,
    0x0018_1111, 0x0018_1114, 0x0018_1120, 0x0018_1130, 0x0018_1134, 0x0018_1140, 0x0018_1149, 0x0018_1150,
    0x0018_1151, 0x0018_1152, 0x0018_1153, 0x0018_1154, 0x0018_1155, 0x0018_1160, 0x0018_1161, 0x0018_1162,
    0x0018_1164, 0x0018_1166, 0x0018_1170, 0x0018_1180, 0x0018_1181, 0x0018_1190, 0x0018_1191, 0x0018_1200,
    0x0018_1201, 0x0018_1210, 0x0018_1242, 0x0018_1243, 0x0018_1244, 0x0018_1250, 0x0018_1251, 0x0018_1260,
    0x0018_1261, 0x0018_1300, 0x0018_1301, 0x0018_1302, 0x0018_1310, 0x0018_1312, 0x0018_1314, 0x0018_1315,
    0x0018_1316, 0x0018_1318, 0x0018_1400, 0x0018_1401, 0x0018_1402, 0x0018_1403, 0x0018_1404, 0x0018_1405,
    0x0018_1450, 0x0018_1460, 0x0018_1470, 0x0018_1480, 0x0018_1490, 0x0018_1491, 0x0018_1495, 0x0018_1500,
    0x0018_1508, 0x0018_1510, 0x0018_1511, 0x0018_1520, 0x0018_1521, 0x0018_1530, 0x0018_1531, 0x0018_1600,
    0x0018_1602, 0x0018_1604, 0x0018_1606, 0x0018_1608, 0x0018_1610, 0x0018_1612, 0x0018_1620, 0x0018_1622,
    0x0018_1623, 0x0018_1624, 0x0018_1700, 0x0018_1702, 0x0018_1704, 0x0018_1706, 0x0018_1708, 0x0018_1710,
    0x0018_1712, 0x0018_1720, 0x0018_5020, 0x0018_5021, 0x0018_5022, 0x0018_5024, 0x0018_5026, 0x0018_5027,
    0x0018_5028, 0x0018_5029, 0x0018_5050, 0x0018_5100, 0x0018_5101, 0x0018_5104, 0x0018_5210, 0x0018_5212,
    // ultrasound regions (0018,6011) and their calibration, US acquisition
    0x0018_6011, 0x0018_6012, 0x0018_6014, 0x0018_6016, 0x0018_6018, 0x0018_601A, 0x0018_601C, 0x0018_601E,
    0x0018_6020, 0x0018_6022, 0x0018_6024, 0x0018_6026, 0x0018_6028, 0x0018_602A, 0x0018_602C, 0x0018_602E,
    0x0018_6030, 0x0018_6031, 0x0018_6032, 0x0018_6034, 0x0018_6036, 0x0018_6038, 0x0018_6039, 0x0018_603A,
    0x0018_603B, 0x0018_603C, 0x0018_603D, 0x0018_603E, 0x0018_603F, 0x0018_6040, 0x0018_6041, 0x0018_6042,
    0x0018_6043, 0x0018_6044, 0x0018_6046, 0x0018_6048, 0x0018_604A, 0x0018_604C, 0x0018_604E, 0x0018_6050,
    0x0018_6052, 0x0018_6054, 0x0018_6056, 0x0018_6058, 0x0018_605A, 0x0018_6060, 0x0018_5000, 0x0018_5010,
    0x0018_5012,
    0x0018_7004, 0x0018_7005, 0x0018_7006, 0x0018_7008, 0x0018_7010, 0x0018_7011, 0x0018_7012, 0x0018_7014,
    0x0018_7016, 0x0018_701A, 0x0018_7020, 0x0018_7022, 0x0018_7024, 0x0018_7026, 0x0018_7028, 0x0018_702A,
    0x0018_702B, 0x0018_7030, 0x0018_7032, 0x0018_7034, 0x0018_7040, 0x0018_7041, 0x0018_7042, 0x0018_7044,
    0x0018_7046, 0x0018_7048, 0x0018_704C, 0x0018_7050, 0x0018_7052, 0x0018_7054, 0x0018_7060, 0x0018_7062,
    0x0018_7064, 0x0018_7065,
    // relationship and image plane (group 0020)
    0x0020_000D, 0x0020_000E, // Study/Series Instance UID (the table's U applies)
    0x0020_0011, 0x0020_0012, 0x0020_0013, 0x0020_0019, 0x0020_0020, 0x0020_0032, 0x0020_0037, 0x0020_0052,
    0x0020_0060, 0x0020_0062, 0x0020_0100, 0x0020_0105, 0x0020_0110, 0x0020_1002, 0x0020_1041,
    0x0020_9056, 0x0020_9057, 0x0020_9071, 0x0020_9072, 0x0020_9111, 0x0020_9113, 0x0020_9116, 0x0020_9128,
    0x0020_9153, 0x0020_9157, 0x0020_9164, 0x0020_9165, 0x0020_9167, 0x0020_9170, 0x0020_9171, 0x0020_9172,
    0x0020_9221, 0x0020_9222, 0x0020_9228, 0x0020_9238, 0x0020_9241, 0x0020_9245, 0x0020_9246, 0x0020_9247,
    0x0020_9248, 0x0020_9249, 0x0020_9250, 0x0020_9251, 0x0020_9252, 0x0020_9253, 0x0020_9254, 0x0020_9255,
    0x0020_9256, 0x0020_9257, 0x0020_9421, 0x0020_9450, 0x0020_9453, 0x0020_9518, 0x0020_9529, 0x0020_9536,
    // image pixel, palette, LUTs, presentation (group 0028)
    0x0028_0002, 0x0028_0003, 0x0028_0004, 0x0028_0006, 0x0028_0008, 0x0028_0009, 0x0028_000A, 0x0028_0010,
    0x0028_0011, 0x0028_0014, 0x0028_0030, 0x0028_0031, 0x0028_0032, 0x0028_0034, 0x0028_0051, 0x0028_0100,
    0x0028_0101, 0x0028_0102, 0x0028_0103, 0x0028_0106, 0x0028_0107, 0x0028_0108, 0x0028_0109, 0x0028_0120,
    0x0028_0121, 0x0028_0300, 0x0028_0301, 0x0028_0302, 0x0028_0303, 0x0028_0A02, 0x0028_0A04, 0x0028_1040,
    0x0028_1041, 0x0028_1050, 0x0028_1051, 0x0028_1052, 0x0028_1053, 0x0028_1054, 0x0028_1055, 0x0028_1056,
    0x0028_1090, 0x0028_1101, 0x0028_1102, 0x0028_1103, 0x0028_1199, 0x0028_1201, 0x0028_1202, 0x0028_1203,
    0x0028_1221, 0x0028_1222, 0x0028_1223, 0x0028_1224, 0x0028_1230, 0x0028_1231, 0x0028_1232, 0x0028_1233,
    0x0028_1300, 0x0028_1350, 0x0028_1351, 0x0028_1352, 0x0028_135A, 0x0028_1401, 0x0028_1402, 0x0028_1403,
    0x0028_1404, 0x0028_1405, 0x0028_1406, 0x0028_1407, 0x0028_1408, 0x0028_140B, 0x0028_140C, 0x0028_140D,
    0x0028_140E, 0x0028_140F, 0x0028_1410, 0x0028_2000, 0x0028_2110, 0x0028_2112, 0x0028_2114, 0x0028_3000,
    0x0028_3002, 0x0028_3003, 0x0028_3004, 0x0028_3006, 0x0028_3010, 0x0028_6010, 0x0028_6020, 0x0028_6022,
    0x0028_6023, 0x0028_6030, 0x0028_6040, 0x0028_6100, 0x0028_6101, 0x0028_6102, 0x0028_6110, 0x0028_6112,
    0x0028_6114, 0x0028_6120, 0x0028_6190, 0x0028_7000, 0x0028_7001, 0x0028_7002, 0x0028_7003, 0x0028_7004,
    0x0028_7005, 0x0028_7006, 0x0028_7007, 0x0028_7008, 0x0028_7009, 0x0028_700A, 0x0028_700B, 0x0028_700C,
    0x0028_700D, 0x0028_700E, 0x0028_700F, 0x0028_7010, 0x0028_7011, 0x0028_7012, 0x0028_7013, 0x0028_7014,
    0x0028_7015, 0x0028_7016, 0x0028_7017, 0x0028_7018, 0x0028_7019, 0x0028_701A, 0x0028_701B, 0x0028_701C,
    0x0028_701D, 0x0028_701E, 0x0028_701F, 0x0028_7020, 0x0028_7021, 0x0028_7022, 0x0028_7023, 0x0028_7024,
    0x0028_7025, 0x0028_7026, 0x0028_7027, 0x0028_7028, 0x0028_7029, 0x0028_702A, 0x0028_702B, 0x0028_702C,
    0x0028_702D, 0x0028_702E, 0x0028_7FE0, 0x0028_9001, 0x0028_9002, 0x0028_9003, 0x0028_9099, 0x0028_9108,
    0x0028_9110, 0x0028_9132, 0x0028_9145, 0x0028_9235, 0x0028_9411, 0x0028_9415, 0x0028_9416, 0x0028_9422,
    0x0028_9443, 0x0028_9444, 0x0028_9445, 0x0028_9446, 0x0028_9454, 0x0028_9474, 0x0028_9478, 0x0028_9501,
    0x0028_9502, 0x0028_9503, 0x0028_9505, 0x0028_9506, 0x0028_9507, 0x0028_9520, 0x0028_9537,
    // cine and multi-frame timing
    0x0018_0040, 0x0018_1063, 0x0018_1065, 0x0018_1066, 0x0018_1242, 0x0008_2142, 0x0008_2143, 0x0008_2144,
    0x0054_0070, 0x0054_0071, 0x0054_0072, 0x0054_0073,
    // encapsulated documents: MIME type (the document itself is handled as content)
    0x0042_0012, 0x0042_0013, 0x0042_0014,
    0x0018_1020, // Software Versions: Type 1 in Enhanced General Equipment; names no one
    0x2050_0020, // Presentation LUT Shape
    0x300A_000C, // RT Plan Geometry
    0x0054_0016, 0x0054_0300, 0x0054_0302, 0x0054_0304, 0x0054_0306, 0x0054_0308, 0x0054_0410, 0x0054_0412,
    0x0054_0414, 0x0054_0220, 0x0054_0222, 0x0054_1101, 0x0054_1103, 0x0054_1105, // NM/PET technical
    0x0070_0080, // Content Label (CS)
    0x0040_A372, // Performed Procedure Code Sequence (codes only)
    0x0040_A043, // Concept Name Code Sequence (document title code)
    0x0018_9005, // Pulse Sequence Name
    0x0040_0318, // Organ Exposed
    0x0040_A170, // Purpose of Reference Code Sequence
    0x0040_9092, 0x0040_9096, 0x0040_9210, 0x0040_9211, 0x0040_9212, 0x0040_9213, 0x0040_9214, 0x0040_9216,
    0x0040_9220, 0x0040_9224, 0x0040_9225, 0x0040_08EA, 0x0040_A040, 0x0040_A168, 0x0040_A30A, // real world values
    0x0066_002F, 0x0066_0031, 0x0066_0036, // algorithm family, version, name: software, not people
    0x0070_0041, 0x0070_0042, 0x0070_0052, 0x0070_0053, 0x0070_005A, 0x0070_0100, 0x0070_0101, 0x0070_0102,
    0x0070_0103, // presentation state display geometry
    0x003A_0203, // Channel Label
    0x5400_0100, 0x5400_0110, 0x5400_0112, 0x5400_1004, 0x5400_1006, 0x5400_100A, 0x5400_1010, // waveform
    // functional groups
    0x5200_9229, 0x5200_9230,
    // pixel data and its tables
    0x7FE0_0001, 0x7FE0_0002, 0x7FE0_0008, 0x7FE0_0009, 0x7FE0_0010,
];

/// Groups where generic numeric attributes are not trusted: patient, visit,
/// procedure and results groups, where newer editions keep adding identifying rows.
const UNTRUSTED_GROUPS: &[u16] = &[0x0010, 0x0032, 0x0038, 0x0040, 0x0400, 0x4008, 0x0088, 0x0070, 0x0012];

/// Whether a public attribute not covered by the table may be kept.
pub fn is_safe(tag: Tag) -> bool {
    let key = (u32::from(tag.0) << 16) | u32::from(tag.1);
    if SAFE_SET.contains(&key) {
        return true;
    }
    if UNTRUSTED_GROUPS.contains(&tag.0) {
        return false;
    }
    // Binary numbers and numeric strings defined by the standard can't carry a
    // name; a value equal to an ID would still be caught by verification.
    // Code strings are defined terms (16 characters, no lower case); sequences
    // are walked, each item attribute judged by the same rules.
    match dictionary_vr(tag) {
        Some(vr) => matches!(
            vr,
            VR::US | VR::SS | VR::UL | VR::SL | VR::FL | VR::FD | VR::UV | VR::SV | VR::DS | VR::IS | VR::AT
                | VR::CS | VR::SQ
        ),
        None => false,
    }
}

/// The VR the standard dictionary gives `tag`, resolving the ambiguous ones
/// the way the pixel module encodes them.
pub fn dictionary_vr(tag: Tag) -> Option<VR> {
    let entry = StandardDataDictionary.by_tag(tag)?;
    Some(match entry.vr {
        VirtualVr::Exact(vr) => vr,
        VirtualVr::Xs => VR::US,
        VirtualVr::Ox => VR::OW,
        VirtualVr::Px => VR::OB,
        VirtualVr::Lt => VR::US,
        _ => VR::UN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technical_attributes_are_safe_identity_is_not() {
        assert!(is_safe(Tag(0x0028, 0x0010)));
        assert!(is_safe(Tag(0x0018, 0x6011)));
        assert!(is_safe(Tag(0x7FE0, 0x0010)));
        // Newer-edition patient rows are not in the 2024b table and must not pass.
        assert!(!is_safe(Tag(0x0010, 0x0011)));
        assert!(!is_safe(Tag(0x0010, 0x0043)));
        assert!(!is_safe(Tag(0x0040, 0xB034)));
        assert!(!is_safe(Tag(0x0008, 0x9999)));
    }
}
