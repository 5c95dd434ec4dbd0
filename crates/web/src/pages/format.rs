//! Showing DICOM values to staff: person names, dates, times and counts in
//! the reader's language. Words (month names, AM/PM, the order of day and
//! month) come from the locale files; this module only picks the pieces.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use super::i18n::{self, Arg, Lang};

/// `GARCIA^ANA MARIA` → `GARCIA, ANA MARIA`. DICOM PN is
/// `family^given^middle^prefix^suffix`, optionally followed by `=ideographic=phonetic`
/// groups; the first non-empty group is shown.
pub fn person_name(pn: &str) -> String {
    let group = pn.split('=').find(|g| g.split('^').any(|c| !c.trim().is_empty())).unwrap_or("");
    let c: Vec<&str> = group.split('^').map(str::trim).collect();
    let part = |i: usize| c.get(i).copied().unwrap_or("");
    let rest: Vec<&str> = [part(3), part(1), part(2), part(4)].into_iter().filter(|s| !s.is_empty()).collect();
    match (part(0), rest.is_empty()) {
        ("", _) => rest.join(" "),
        (family, true) => family.to_owned(),
        (family, false) => format!("{family}, {}", rest.join(" ")),
    }
}

/// A DICOM DA (`YYYYMMDD`, or the old `YYYY.MM.DD`) as a calendar date.
pub fn parse_da(da: &str) -> Option<NaiveDate> {
    let digits: String = da.trim().chars().filter(|c| *c != '.').collect();
    if digits.len() != 8 {
        return None;
    }
    NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()
}

/// A DICOM TM (`HH`, `HHMM`, `HHMMSS[.ffffff]`, or the old `HH:MM:SS`).
pub fn parse_tm(tm: &str) -> Option<NaiveTime> {
    let digits: String = tm.trim().chars().take_while(|c| *c != '.').filter(|c| *c != ':').collect();
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u32>().ok());
    let h = num(0..2)?;
    let m = if digits.len() >= 4 { num(2..4)? } else { 0 };
    NaiveTime::from_hms_opt(h, m, 0)
}

/// "Nov 26, 2026" / "26/11/2026".
pub fn date(lang: Lang, d: NaiveDate) -> String {
    let month = i18n::t(lang, &format!("fmt-month-{}", d.month()));
    i18n::t_args(
        lang,
        "fmt-date",
        &[
            ("day", Arg::from(d.day().to_string())),
            ("dd", Arg::from(format!("{:02}", d.day()))),
            ("mm", Arg::from(format!("{:02}", d.month()))),
            ("month", Arg::from(month)),
            ("year", Arg::from(d.year().to_string())),
        ],
    )
}

/// "2:05 PM" / "14:05".
pub fn time(lang: Lang, t: NaiveTime) -> String {
    let (pm, h12) = t.hour12();
    let ampm = i18n::t(lang, if pm { "fmt-pm" } else { "fmt-am" });
    i18n::t_args(
        lang,
        "fmt-time",
        &[
            ("hh", Arg::from(format!("{:02}", t.hour()))),
            ("h12", Arg::from(h12.to_string())),
            ("min", Arg::from(format!("{:02}", t.minute()))),
            ("ampm", Arg::from(ampm)),
        ],
    )
}

/// A DICOM date, or the raw value when it isn't one (better than hiding it).
pub fn da(lang: Lang, value: Option<&str>) -> String {
    match value {
        Some(v) => parse_da(v).map(|d| date(lang, d)).unwrap_or_else(|| v.to_owned()),
        None => String::new(),
    }
}

pub fn tm(lang: Lang, value: Option<&str>) -> String {
    match value {
        Some(v) => parse_tm(v).map(|t| time(lang, t)).unwrap_or_else(|| v.to_owned()),
        None => String::new(),
    }
}

/// A stored timestamp in UTC, labelled so.
pub fn timestamp(lang: Lang, ms: i64) -> String {
    timestamp_in(lang, chrono_tz::UTC, ms)
}

/// A stored timestamp (UTC milliseconds) as wall-clock time in the clinic's
/// zone, with the zone's abbreviation ("CET", "CEST") so nobody mistakes it
/// for their own. Only our own timestamps: DICOM dates and times are already
/// the device's wall clock and are never shifted.
pub fn timestamp_in(lang: Lang, tz: chrono_tz::Tz, ms: i64) -> String {
    let Some(dt) = chrono::DateTime::from_timestamp_millis(ms) else { return String::new() };
    let local = dt.with_timezone(&tz);
    let naive = local.naive_local();
    i18n::t_args(
        lang,
        "fmt-datetime",
        &[
            ("date", Arg::from(date(lang, naive.date()))),
            ("time", Arg::from(time(lang, naive.time()))),
            ("zone", Arg::from(local.format("%Z").to_string())),
        ],
    )
}

/// The clinic's zone; a name the database holds but this build doesn't know
/// (an older tz database) falls back to UTC, which the label then says.
pub fn zone(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// Digit grouping: 12,345 (en); 12.345 but 1234 (es: CLDR groups only from
/// five digits).
pub fn int(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let (sep, min_len) = match lang {
        Lang::En => (',', 4),
        Lang::Es => ('.', 5),
    };
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    if digits.len() < min_len {
        out.push_str(&digits);
        return out;
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names() {
        assert_eq!(person_name("GARCIA^ANA MARIA"), "GARCIA, ANA MARIA");
        assert_eq!(person_name("ZZZ TEST PATIENTFIVE^NEW^P^"), "ZZZ TEST PATIENTFIVE, NEW P");
        assert_eq!(person_name("Anonymized40"), "Anonymized40");
        assert_eq!(person_name("OB^^^^"), "OB");
        assert_eq!(person_name("^Jan"), "Jan");
        assert_eq!(person_name("SMITH^JOHN^^DR^JR"), "SMITH, DR JOHN JR");
        assert_eq!(person_name("=山田^太郎=やまだ^たろう"), "山田, 太郎");
        assert_eq!(person_name(""), "");
    }

    #[test]
    fn dates_per_language() {
        assert_eq!(da(Lang::En, Some("20261126")), "Nov 26, 2026");
        assert_eq!(da(Lang::Es, Some("20261126")), "26/11/2026");
        assert_eq!(da(Lang::Es, Some("2026.01.05")), "05/01/2026");
        assert_eq!(da(Lang::En, Some("2026")), "2026", "not a date: shown as is");
        assert_eq!(da(Lang::En, None), "");
    }

    #[test]
    fn times_per_language() {
        assert_eq!(tm(Lang::En, Some("140512.123")), "2:05 PM");
        assert_eq!(tm(Lang::Es, Some("140512")), "14:05");
        assert_eq!(tm(Lang::En, Some("0930")), "9:30 AM");
        assert_eq!(tm(Lang::Es, Some("07")), "07:00");
        assert_eq!(tm(Lang::En, Some("10:15:00")), "10:15 AM");
        // 2026-11-26 13:45 UTC
        assert_eq!(timestamp(Lang::Es, 1_795_700_700_000), "26/11/2026 13:45 UTC");
        assert_eq!(timestamp(Lang::En, 1_795_700_700_000), "Nov 26, 2026, 1:45 PM UTC");
    }

    #[test]
    fn timestamps_in_the_clinic_zone() {
        let madrid = zone("Europe/Madrid");
        // 2026-11-26 13:45 UTC is 14:45 in Madrid (winter time).
        assert_eq!(timestamp_in(Lang::Es, madrid, 1_795_700_700_000), "26/11/2026 14:45 CET");
        // 2026-07-01 23:30 UTC is already July 2 in Madrid (summer time).
        assert_eq!(timestamp_in(Lang::Es, madrid, 1_782_948_600_000), "02/07/2026 01:30 CEST");
        let la = zone("America/Los_Angeles");
        assert_eq!(timestamp_in(Lang::En, la, 1_795_700_700_000), "Nov 26, 2026, 5:45 AM PST");
        assert_eq!(zone("Mars/Base"), chrono_tz::UTC);
    }

    #[test]
    fn numbers_per_language() {
        assert_eq!(int(Lang::En, 1234567), "1,234,567");
        assert_eq!(int(Lang::En, 999), "999");
        assert_eq!(int(Lang::En, 1000), "1,000");
        assert_eq!(int(Lang::Es, 1234), "1234");
        assert_eq!(int(Lang::Es, 12345), "12.345");
        assert_eq!(int(Lang::Es, -100000), "-100.000");
    }
}
