//! Known screen layouts: where ultrasound devices draw patient and clinic text.
//!
//! A rule matches on Manufacturer (0008,0070), Manufacturer's Model Name (0008,1090) and the
//! pixel matrix size, and lists rectangles that must be blanked. Rules are applied only to
//! ultrasound objects; screen captures of the same device may show report pages instead.
//!
//! Two kinds of evidence:
//! * [`Evidence::Corpus`]: measured on real images of the device in the test corpus
//!   (`/work/shared/corpus/ultrasound`, see MANIFEST.tsv): the band ends below the last row
//!   of text and above the first row of image. Such a rule may be used alone.
//! * [`Evidence::Published`]: taken from the pixel-anonymizer filters collected in
//!   pydicom/deid `deid/data/deid.dicom` (MIT; entries contributed from RSNA CTP, "FFUR" and
//!   "AMBR" sites; CTP rectangles are x,y,width,height and are converted here). We have not
//!   seen such an image, and one published band (Voluson S, 62 px) proved too short against
//!   the corpus (text down to row 65), so these rules only ever blank *in addition to*
//!   ultrasound regions, never alone.
//!
//! The first matching rule wins; corpus rules come first.

use super::area::Rect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Corpus,
    Published,
}

#[derive(Debug)]
pub struct DeviceRule {
    pub name: &'static str,
    /// Lower-case tokens; one must start a word of the Manufacturer.
    pub manufacturers: &'static [&'static str],
    /// Lower-case tokens without spaces; one must occur in the model name with spaces,
    /// hyphens and underscores removed.
    pub models: &'static [&'static str],
    pub rows: u32,
    /// `None`: the published filter constrains rows only.
    pub cols: Option<u32>,
    pub blank: &'static [Rect],
    pub evidence: Evidence,
    pub source: &'static str,
}

const fn r(x0: u32, y0: u32, x1: u32, y1: u32) -> Rect {
    Rect { x0, y0, x1, y1 }
}

/// CTP notation: x, y, width, height.
const fn ctp(x: u32, y: u32, w: u32, h: u32) -> Rect {
    Rect {
        x0: x,
        y0: y,
        x1: x + w,
        y1: y + h,
    }
}

const PHILIPS: &[&str] = &["philips"];
const SIEMENS: &[&str] = &["siemens", "acuson"];
const GE: &[&str] = &[
    "ge healthcare",
    "ge medical",
    "g.e. medical",
    "ge ultrasound",
    "kretz",
];
const TOSHIBA: &[&str] = &["toshiba", "canon"];
const SAMSUNG: &[&str] = &["samsung", "medison"];
const MINDRAY: &[&str] = &["mindray"];

use Evidence::{Corpus, Published};

pub static DEVICE_RULES: &[DeviceRule] = &[
    // ---- measured on corpus images ----
    DeviceRule {
        name: "Philips EPIQ 1024x768",
        manufacturers: PHILIPS,
        models: &["epiq"],
        rows: 768,
        cols: Some(1024),
        blank: &[r(0, 0, 1024, 26)],
        evidence: Corpus,
        source: "us_mono_evrle_burnedin_philips_epiq: grey band rows 0-23, text rows 6-18; \
                 us_jpeglossless_mono_philips_epiq: rows 0-25 already black; regions start at 38",
    },
    DeviceRule {
        name: "Philips EPIQ 800x600",
        manufacturers: PHILIPS,
        models: &["epiq"],
        rows: 600,
        cols: Some(800),
        blank: &[r(0, 0, 800, 20)],
        evidence: Corpus,
        source: "us_cine_mono_evrle_27f_burnedin_philips_epiq: band rows 0-18 on all 27 frames; \
                 region starts at 31 (published CTP 49 px would cut into the image)",
    },
    DeviceRule {
        name: "Philips CX50 / ClearVue 800x600",
        manufacturers: PHILIPS,
        models: &["cx50", "clearvue"],
        rows: 600,
        cols: Some(800),
        blank: &[r(0, 0, 800, 60)],
        evidence: Corpus,
        source: "us_palette_rle_philips_cx50, us_palette_implicit_philips_clearvue: header box \
                 rows 0-59, regions start at 60; CTP CX50 rule 0,0,800,59 agrees",
    },
    DeviceRule {
        name: "Siemens S2000 1024x768",
        manufacturers: SIEMENS,
        models: &["s2000"],
        rows: 768,
        cols: Some(1024),
        blank: &[r(0, 0, 1024, 60)],
        evidence: Corpus,
        source: "us_rgb_evrle_burnedin_siemens_s2000: text rows 8-50, region starts at 60; \
                 CTP rule 0,0,1024,60 agrees",
    },
    DeviceRule {
        name: "GE Voluson S 975x743",
        manufacturers: GE,
        models: &["volusons"],
        rows: 743,
        cols: Some(975),
        blank: &[r(0, 0, 975, 74)],
        evidence: Corpus,
        source: "us_cine_jpegbaseline_87f_burnedin_voluson: header boxes rows 13-73 (text to 65), \
                 region starts at 74; FFUR rule (62 px) is too short",
    },
    DeviceRule {
        name: "ATL HDI 5000 640x480",
        manufacturers: &["atl"],
        models: &["hdi5000"],
        rows: 480,
        cols: Some(640),
        blank: &[r(0, 0, 640, 40)],
        evidence: Corpus,
        source: "us_ybrfull_evrle_burnedin_atl, us_jpegbaseline_ybr422_burnedin_atl: header box \
                 rows 3-35, first image content at row 46",
    },
    DeviceRule {
        name: "Acuson Sequoia 640x480",
        manufacturers: SIEMENS,
        models: &["sequoia"],
        rows: 480,
        cols: Some(640),
        blank: &[r(0, 0, 640, 48)],
        evidence: Corpus,
        source: "us_ybrfull_rle_burnedin_acuson: name/clinic rows 2-29, icon and clock rows \
                 34-47, 2D region starts at 48 (CTP rule: 30 px)",
    },
    DeviceRule {
        name: "GE LOGIQ 700 640x480",
        manufacturers: GE,
        models: &["logiq700"],
        rows: 480,
        cols: Some(640),
        blank: &[r(0, 0, 640, 56)],
        evidence: Corpus,
        source: "us_rgb_rle_wg04_us1, us_rgb_bigendian_epicard: institution/time line rows \
                 25-41, second line rows 42-55, image from row 58",
    },
    // ---- published (pydicom/deid deid.dicom), used only together with regions ----
    DeviceRule {
        name: "Philips iU22 640x480",
        manufacturers: PHILIPS,
        models: &["iu22"],
        rows: 480,
        cols: None,
        blank: &[ctp(0, 0, 640, 47)],
        evidence: Published,
        source: "CTP",
    },
    DeviceRule {
        name: "Philips iU22 800x600",
        manufacturers: PHILIPS,
        models: &["iu22"],
        rows: 600,
        cols: None,
        blank: &[ctp(0, 0, 800, 59)],
        evidence: Published,
        source: "CTP",
    },
    DeviceRule {
        name: "Philips iU22 1024x768",
        manufacturers: PHILIPS,
        models: &["iu22"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1024, 75)],
        evidence: Published,
        source: "CTP (published with Rows 786, taken as a typo for 768)",
    },
    DeviceRule {
        name: "Philips Affiniti 1024x768",
        manufacturers: PHILIPS,
        models: &["affiniti"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1024, 26)],
        evidence: Published,
        source: "AMB 22 px, widened to the 26 px EPIQ band measured in the corpus (same UI family)",
    },
    DeviceRule {
        name: "Philips Affiniti 825 rows",
        manufacturers: PHILIPS,
        models: &["affiniti"],
        rows: 825,
        cols: None,
        blank: &[ctp(0, 0, 1140, 70)],
        evidence: Published,
        source: "AMB",
    },
    DeviceRule {
        name: "Philips EPIQ 825 rows",
        manufacturers: PHILIPS,
        models: &["epiq"],
        rows: 825,
        cols: None,
        blank: &[ctp(0, 0, 800, 59)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Siemens Antares 1024x768",
        manufacturers: SIEMENS,
        models: &["antares"],
        rows: 768,
        cols: Some(1024),
        blank: &[
            ctp(0, 0, 1024, 60),
            ctp(200, 60, 20, 20),
            ctp(800, 65, 104, 14),
        ],
        evidence: Published,
        source: "CTP",
    },
    DeviceRule {
        name: "Siemens Acuson S3000 768 rows",
        manufacturers: SIEMENS,
        models: &["s3000"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1040, 60)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Siemens Acuson NX3 768 rows",
        manufacturers: SIEMENS,
        models: &["nx3"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1150, 58)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Toshiba Aplio 400/500 960x720",
        manufacturers: TOSHIBA,
        models: &["a400", "a500", "aplio400", "aplio500"],
        rows: 720,
        cols: Some(960),
        blank: &[ctp(0, 0, 960, 60)],
        evidence: Published,
        source: "CTP",
    },
    DeviceRule {
        name: "Toshiba Aplio 300 (TUS-A300) 720 rows",
        manufacturers: TOSHIBA,
        models: &["tusa300", "aplio300"],
        rows: 720,
        cols: None,
        blank: &[ctp(0, 0, 1150, 68)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Toshiba Aplio 300 (TUS-A300) 632 rows",
        manufacturers: TOSHIBA,
        models: &["tusa300", "aplio300"],
        rows: 632,
        cols: None,
        blank: &[ctp(0, 0, 1150, 72)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Toshiba Aplio 500 (TUS-A500) 632 rows",
        manufacturers: TOSHIBA,
        models: &["tusa500", "aplio500"],
        rows: 632,
        cols: None,
        blank: &[ctp(0, 0, 1150, 60)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Toshiba Aplio 500 (TUS-A500) 903 rows",
        manufacturers: TOSHIBA,
        models: &["tusa500", "aplio500"],
        rows: 903,
        cols: None,
        blank: &[ctp(0, 0, 930, 50)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "GE Voluson P8 727 rows",
        manufacturers: GE,
        models: &["volusonp8"],
        rows: 727,
        cols: None,
        blank: &[ctp(0, 0, 1150, 65)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "GE Voluson S10 852 rows",
        manufacturers: GE,
        models: &["volusons10"],
        rows: 852,
        cols: None,
        blank: &[ctp(0, 0, 1040, 62)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "GE Voluson S10 600 rows",
        manufacturers: GE,
        models: &["volusons10"],
        rows: 600,
        cols: None,
        blank: &[ctp(0, 0, 1040, 62)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "GE Voluson 730 (E-series predecessor) 600 rows",
        manufacturers: GE,
        models: &["v730", "voluson730"],
        rows: 600,
        cols: None,
        blank: &[ctp(0, 0, 1140, 80)],
        evidence: Published,
        source: "AMBR (Kretztechnik V730)",
    },
    DeviceRule {
        name: "Samsung UGEO H60 720 rows",
        manufacturers: SAMSUNG,
        models: &["ugeoh60", "h60"],
        rows: 720,
        cols: None,
        blank: &[ctp(0, 0, 1150, 70)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Samsung Medison SonoAce R7 768 rows",
        manufacturers: SAMSUNG,
        models: &["sonoacer7"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1140, 60)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Samsung Medison Accuvix V20 768 rows",
        manufacturers: SAMSUNG,
        models: &["accuvixv20"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1010, 65)],
        evidence: Published,
        source: "FFUR",
    },
    DeviceRule {
        name: "Mindray M6 600 rows",
        manufacturers: MINDRAY,
        models: &["m6"],
        rows: 600,
        cols: None,
        blank: &[ctp(0, 0, 1050, 75)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Mindray M7 600 rows",
        manufacturers: MINDRAY,
        models: &["m7"],
        rows: 600,
        cols: None,
        blank: &[ctp(0, 0, 800, 50)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Mindray M7 768 rows",
        manufacturers: MINDRAY,
        models: &["m7"],
        rows: 768,
        cols: None,
        blank: &[ctp(0, 0, 1080, 80)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Mindray Z5 600 rows",
        manufacturers: MINDRAY,
        models: &["z5"],
        rows: 600,
        cols: None,
        blank: &[ctp(0, 0, 1130, 62)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Mindray DC-8 PRO 900 rows",
        manufacturers: MINDRAY,
        models: &["dc8pro"],
        rows: 900,
        cols: None,
        blank: &[ctp(0, 0, 1150, 60)],
        evidence: Published,
        source: "AMBR",
    },
    DeviceRule {
        name: "Mindray M9 910 rows",
        manufacturers: MINDRAY,
        models: &["m9"],
        rows: 910,
        cols: None,
        blank: &[ctp(0, 0, 1150, 60)],
        evidence: Published,
        source: "AMBR",
    },
];

/// First rule for this device and matrix size.
pub(crate) fn find(
    manufacturer: &str,
    model: &str,
    rows: u32,
    cols: u32,
) -> Option<&'static DeviceRule> {
    let manufacturer = manufacturer.to_ascii_lowercase();
    let model: String = model
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    if model.is_empty() {
        return None;
    }
    DEVICE_RULES.iter().find(|rule| {
        rule.rows == rows
            && rule.cols.is_none_or(|c| c == cols)
            && rule
                .manufacturers
                .iter()
                .any(|t| starts_word(&manufacturer, t))
            && rule.models.iter().any(|t| model_matches(&model, t))
    })
}

fn starts_word(hay: &str, token: &str) -> bool {
    hay.match_indices(token).any(|(i, _)| {
        i == 0
            || !hay[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Short model tokens ("m7", "z5") must not match inside longer names ("m70", "dz5").
fn model_matches(model: &str, token: &str) -> bool {
    if token.len() > 3 {
        return model.contains(token);
    }
    model.match_indices(token).any(|(i, _)| {
        let before = model[..i].chars().next_back();
        let after = model[i + token.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_corpus_devices() {
        assert_eq!(
            find("Philips Medical Systems", "EPIQ 5G", 768, 1024)
                .unwrap()
                .name,
            "Philips EPIQ 1024x768"
        );
        assert_eq!(
            find("SIEMENS", "S2000", 768, 1024).unwrap().name,
            "Siemens S2000 1024x768"
        );
        assert_eq!(
            find("GE Healthcare", "Voluson S", 743, 975).unwrap().name,
            "GE Voluson S 975x743"
        );
        assert_eq!(
            find("ATL", "HDI5000/DVS", 480, 640).unwrap().name,
            "ATL HDI 5000 640x480"
        );
        assert_eq!(
            find("G.E. Medical Systems", "LOGIQ 700", 480, 640)
                .unwrap()
                .name,
            "GE LOGIQ 700 640x480"
        );
    }

    #[test]
    fn does_not_match_other_sizes_or_lookalikes() {
        assert!(find("Philips Medical Systems", "EPIQ 5G", 767, 1024).is_none());
        assert!(find("Seattle Imaging", "HDI5000", 480, 640).is_none());
        assert!(find("Mindray", "M70", 600, 800).is_none());
        assert!(find("Mindray", "M7", 600, 800).is_some());
        assert!(find("Philips", "", 768, 1024).is_none());
    }

    #[test]
    fn rectangles_are_well_formed() {
        for rule in DEVICE_RULES {
            assert!(!rule.blank.is_empty(), "{}", rule.name);
            assert_eq!(
                rule.blank[0].y0, 0,
                "{}: the band starts at the top",
                rule.name
            );
            for b in rule.blank {
                assert!(b.x0 < b.x1 && b.y0 < b.y1, "{}", rule.name);
            }
        }
    }
}
