//! Vital signs as people enter and read them: the units they type in, how a
//! reading is written out, and the CSV and JSON of the export.
//!
//! Readings are stored in the units of [`VitalKind::unit`]; everything here
//! converts at the edges (a form that takes °F, a table that shows mmHg) so the
//! stored record has one unit per kind and charts compare like with like.

use serde::Serialize;

use crate::records::{VitalKind, VitalReading};

/// A unit a person may type a reading in. The first unit of each kind in
/// [`units`] is the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VitalUnit {
    /// Degrees Celsius (stored).
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
    /// Millimetres of mercury (stored, blood pressure).
    MmHg,
    /// Beats per minute (stored, pulse).
    Bpm,
    /// Kilograms (stored).
    Kilogram,
    /// Pounds (avoirdupois).
    Pound,
    /// Millimoles per litre (stored, blood glucose).
    MmolPerL,
    /// Milligrams per decilitre, common in the United States.
    MgPerDl,
    /// Percent (stored, oxygen saturation).
    Percent,
    /// Breaths per minute (stored, respiratory rate).
    BreathsPerMin,
    /// Centimetres (stored, height).
    Centimetre,
    /// Inches.
    Inch,
}

/// Centimetres in one inch, exact by definition.
pub const CM_PER_INCH: f64 = 2.54;

/// Milligrams per decilitre in one millimole per litre of glucose: its molar
/// mass, 180.156 g/mol, over ten (mg/dL = mmol/L × 180.156 / 10).
pub const GLUCOSE_MG_PER_DL_PER_MMOL: f64 = 18.0156;
/// Kilograms in one pound, exact by definition (1959 international pound).
pub const KG_PER_POUND: f64 = 0.453_592_37;

impl VitalUnit {
    /// Every unit, for lookups by code.
    pub const ALL: [VitalUnit; 12] = [
        VitalUnit::Celsius,
        VitalUnit::Fahrenheit,
        VitalUnit::MmHg,
        VitalUnit::Bpm,
        VitalUnit::Kilogram,
        VitalUnit::Pound,
        VitalUnit::MmolPerL,
        VitalUnit::MgPerDl,
        VitalUnit::Percent,
        VitalUnit::BreathsPerMin,
        VitalUnit::Centimetre,
        VitalUnit::Inch,
    ];

    /// The symbol people read ("°F", "mg/dL").
    pub fn symbol(self) -> &'static str {
        match self {
            VitalUnit::Celsius => "°C",
            VitalUnit::Fahrenheit => "°F",
            VitalUnit::MmHg => "mmHg",
            VitalUnit::Bpm => "bpm",
            VitalUnit::Kilogram => "kg",
            VitalUnit::Pound => "lb",
            VitalUnit::MmolPerL => "mmol/L",
            VitalUnit::MgPerDl => "mg/dL",
            VitalUnit::Percent => "%",
            VitalUnit::BreathsPerMin => "breaths/min",
            VitalUnit::Centimetre => "cm",
            VitalUnit::Inch => "in",
        }
    }

    /// A short ASCII code, for form values.
    pub fn code(self) -> &'static str {
        match self {
            VitalUnit::Celsius => "c",
            VitalUnit::Fahrenheit => "f",
            VitalUnit::MmHg => "mmhg",
            VitalUnit::Bpm => "bpm",
            VitalUnit::Kilogram => "kg",
            VitalUnit::Pound => "lb",
            VitalUnit::MmolPerL => "mmol",
            VitalUnit::MgPerDl => "mgdl",
            VitalUnit::Percent => "pct",
            VitalUnit::BreathsPerMin => "rpm",
            VitalUnit::Centimetre => "cm",
            VitalUnit::Inch => "in",
        }
    }

    /// The unit with this [`Self::code`].
    pub fn from_code(code: &str) -> Option<VitalUnit> {
        VitalUnit::ALL.into_iter().find(|u| u.code() == code)
    }

    /// What the unit measures.
    pub fn kind(self) -> VitalKind {
        match self {
            VitalUnit::Celsius | VitalUnit::Fahrenheit => VitalKind::Temperature,
            VitalUnit::MmHg => VitalKind::BloodPressure,
            VitalUnit::Bpm => VitalKind::Pulse,
            VitalUnit::Kilogram | VitalUnit::Pound => VitalKind::Weight,
            VitalUnit::MmolPerL | VitalUnit::MgPerDl => VitalKind::BloodGlucose,
            VitalUnit::Percent => VitalKind::OxygenSaturation,
            VitalUnit::BreathsPerMin => VitalKind::RespiratoryRate,
            VitalUnit::Centimetre | VitalUnit::Inch => VitalKind::Height,
        }
    }
}

/// The units a kind can be typed in, the stored unit first.
pub fn units(kind: VitalKind) -> &'static [VitalUnit] {
    match kind {
        VitalKind::Temperature => &[VitalUnit::Celsius, VitalUnit::Fahrenheit],
        VitalKind::BloodPressure => &[VitalUnit::MmHg],
        VitalKind::Pulse => &[VitalUnit::Bpm],
        VitalKind::Weight => &[VitalUnit::Kilogram, VitalUnit::Pound],
        VitalKind::BloodGlucose => &[VitalUnit::MmolPerL, VitalUnit::MgPerDl],
        VitalKind::OxygenSaturation => &[VitalUnit::Percent],
        VitalKind::RespiratoryRate => &[VitalUnit::BreathsPerMin],
        VitalKind::Height => &[VitalUnit::Centimetre, VitalUnit::Inch],
    }
}

/// Converts `value` in `unit` to the stored unit of its kind, rounded to
/// hundredths of the stored unit (finer than any home device measures, and it
/// keeps 98.6 °F from being stored as 36.99999…). The one place that knows the
/// conversion factors.
pub fn to_stored(value: f64, unit: VitalUnit) -> f64 {
    let stored = match unit {
        VitalUnit::Celsius | VitalUnit::MmHg | VitalUnit::Bpm => value,
        VitalUnit::Kilogram | VitalUnit::MmolPerL => value,
        VitalUnit::Percent | VitalUnit::BreathsPerMin | VitalUnit::Centimetre => value,
        VitalUnit::Inch => value * CM_PER_INCH,
        VitalUnit::Fahrenheit => (value - 32.0) * 5.0 / 9.0,
        VitalUnit::Pound => value * KG_PER_POUND,
        VitalUnit::MgPerDl => value / GLUCOSE_MG_PER_DL_PER_MMOL,
    };
    (stored * 100.0).round() / 100.0
}

/// How many decimals a stored value of `kind` is shown with.
pub fn decimals(kind: VitalKind) -> usize {
    match kind {
        VitalKind::BloodPressure | VitalKind::Pulse | VitalKind::RespiratoryRate => 0,
        VitalKind::OxygenSaturation => 0,
        VitalKind::Temperature | VitalKind::Weight | VitalKind::BloodGlucose => 1,
        VitalKind::Height => 1,
    }
}

/// A stored value of `kind` as a number people read ("37.2", "120"), rounded
/// half away from zero as people round (69.85 kg reads 69.9, although the
/// nearest binary number is a hair below 69.85).
pub fn format_number(kind: VitalKind, value: f64) -> String {
    let prec = decimals(kind);
    let scale = 10f64.powi(prec as i32);
    let scaled = value * scale;
    // Undo the binary representation error before rounding: 69.85 × 10 is
    // 698.4999…, which is 698.5 to every digit a person typed.
    let rounded = (scaled * 1e9).round() / 1e9;
    format!("{:.prec$}", rounded.round() / scale)
}

/// A reading's value with its unit: "37.2 °C", "120/80 mmHg".
pub fn format_reading(reading: &VitalReading) -> String {
    let kind = reading.kind;
    match reading.second {
        Some(second) => format!(
            "{}/{} {}",
            format_number(kind, reading.value),
            format_number(kind, second),
            kind.unit()
        ),
        None => format!("{} {}", format_number(kind, reading.value), kind.unit()),
    }
}

/// A Unix time as an ISO 8601 UTC timestamp, `2026-11-23T08:30:00Z`.
pub fn iso_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01, by shifting the
/// year to start in March (so the leap day ends it) and counting 400-year eras.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// The CSV header of [`readings_csv`].
pub const CSV_HEADER: [&str; 5] = ["taken_at", "kind", "value", "second_value", "unit"];

/// Readings as CSV, in the order given: a header row, then one row per reading
/// with its time in ISO 8601 UTC, the kind's name, the stored value(s) and unit.
pub fn readings_csv<'a>(readings: impl IntoIterator<Item = &'a VitalReading>) -> String {
    let mut out = String::new();
    out.push_str(&crate::csv::row(&CSV_HEADER));
    for r in readings {
        out.push_str(&crate::csv::row(&[
            iso_utc(r.taken_at),
            r.kind.label().to_owned(),
            r.value.to_string(),
            r.second.map(|v| v.to_string()).unwrap_or_default(),
            r.kind.unit().to_owned(),
        ]));
    }
    out
}

/// The JSON export of the readings: a small self-describing document.
#[derive(Debug, Serialize)]
struct ReadingsJson<'a> {
    format: &'static str,
    version: u32,
    exported_at: String,
    readings: Vec<ReadingJson<'a>>,
}

#[derive(Debug, Serialize)]
struct ReadingJson<'a> {
    taken_at: String,
    taken_at_unix: i64,
    kind: &'a VitalKind,
    label: &'static str,
    value: f64,
    second_value: Option<f64>,
    unit: &'static str,
}

/// Readings as pretty-printed JSON, in the order given, with when the export
/// was made.
pub fn readings_json<'a>(
    readings: impl IntoIterator<Item = &'a VitalReading>,
    exported_at: i64,
) -> String {
    let doc = ReadingsJson {
        format: "medvault vital signs",
        version: 1,
        exported_at: iso_utc(exported_at),
        readings: readings
            .into_iter()
            .map(|r| ReadingJson {
                taken_at: iso_utc(r.taken_at),
                taken_at_unix: r.taken_at,
                kind: &r.kind,
                label: r.kind.label(),
                value: r.value,
                second_value: r.second,
                unit: r.kind.unit(),
            })
            .collect(),
    };
    // Plain data (strings and finite numbers): serialising it cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Body mass index from the latest height and the latest weight among
/// `readings` (kg/m², one decimal as people read it), or `None` without both.
/// A computed figure, never stored: it follows whichever reading is newest.
pub fn bmi<'a>(readings: impl IntoIterator<Item = &'a VitalReading>) -> Option<f64> {
    let mut height: Option<&VitalReading> = None;
    let mut weight: Option<&VitalReading> = None;
    for r in readings {
        let slot = match r.kind {
            VitalKind::Height => &mut height,
            VitalKind::Weight => &mut weight,
            _ => continue,
        };
        if slot.is_none_or(|s| r.taken_at >= s.taken_at) {
            *slot = Some(r);
        }
    }
    let metres = height?.value / 100.0;
    let value = weight?.value / (metres * metres);
    Some((value * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmi_takes_the_latest_height_and_weight() {
        let readings = [
            reading(VitalKind::Height, 10, 180.0, None),
            reading(VitalKind::Weight, 20, 81.0, None),
            reading(VitalKind::Weight, 5, 120.0, None),
            reading(VitalKind::Pulse, 30, 60.0, None),
        ];
        assert_eq!(bmi(&readings), Some(25.0));
        assert_eq!(bmi(&readings[1..]), None);
        assert_eq!(to_stored(70.0, VitalUnit::Inch), 177.8);
    }

    fn reading(kind: VitalKind, taken_at: i64, value: f64, second: Option<f64>) -> VitalReading {
        VitalReading {
            kind,
            taken_at,
            value,
            second,
        }
    }

    #[test]
    fn conversions_land_on_the_stored_unit() {
        let cases = [
            (98.6, VitalUnit::Fahrenheit, 37.0),
            (32.0, VitalUnit::Fahrenheit, 0.0),
            (212.0, VitalUnit::Fahrenheit, 100.0),
            (37.2, VitalUnit::Celsius, 37.2),
            (154.0, VitalUnit::Pound, 69.85),
            (1.0, VitalUnit::Pound, 0.45),
            (70.0, VitalUnit::Kilogram, 70.0),
            (100.0, VitalUnit::MgPerDl, 5.55),
            (180.156, VitalUnit::MgPerDl, 10.0),
            (5.5, VitalUnit::MmolPerL, 5.5),
            (120.0, VitalUnit::MmHg, 120.0),
            (64.0, VitalUnit::Bpm, 64.0),
        ];
        for (value, unit, stored) in cases {
            let got = to_stored(value, unit);
            assert!((got - stored).abs() < 1e-9, "{value} {unit:?}: {got}");
        }
    }

    #[test]
    fn every_kind_offers_its_stored_unit_first() {
        for kind in VitalKind::ALL {
            let list = units(kind);
            assert_eq!(list[0].symbol(), kind.unit(), "{kind:?}");
            for unit in list {
                assert_eq!(unit.kind(), kind);
                assert_eq!(VitalUnit::from_code(unit.code()), Some(*unit));
            }
        }
        assert_eq!(VitalUnit::from_code("furlong"), None);
    }

    #[test]
    fn a_converted_impossible_value_is_still_refused() {
        // 163.4 °F is 73 °C: conversion happens before the range check.
        let r = reading(
            VitalKind::Temperature,
            0,
            to_stored(163.4, VitalUnit::Fahrenheit),
            None,
        );
        assert!(r.validate().is_err());
    }

    #[test]
    fn readings_read_with_their_units() {
        assert_eq!(
            format_reading(&reading(VitalKind::Temperature, 0, 37.24, None)),
            "37.2 °C"
        );
        assert_eq!(
            format_reading(&reading(VitalKind::BloodPressure, 0, 120.0, Some(80.0))),
            "120/80 mmHg"
        );
        assert_eq!(
            format_reading(&reading(VitalKind::BloodGlucose, 0, 5.56, None)),
            "5.6 mmol/L"
        );
        // Half rounds away from zero, as people round.
        assert_eq!(format_number(VitalKind::Weight, 69.85), "69.9");
        assert_eq!(format_number(VitalKind::Temperature, 37.25), "37.3");
        assert_eq!(format_number(VitalKind::Pulse, 72.5), "73");
        assert_eq!(format_number(VitalKind::Temperature, 37.24), "37.2");
    }

    #[test]
    fn iso_times_match_known_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_795_422_600), "2026-11-23T08:30:00Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso_utc(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(iso_utc(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_reading() {
        let readings = [
            reading(VitalKind::Temperature, 1_795_422_600, 37.2, None),
            reading(VitalKind::BloodPressure, 1_795_426_200, 121.0, Some(79.0)),
        ];
        let csv = readings_csv(&readings);
        assert_eq!(
            csv,
            "taken_at,kind,value,second_value,unit\r\n\
             2026-11-23T08:30:00Z,Temperature,37.2,,°C\r\n\
             2026-11-23T09:30:00Z,Blood pressure,121,79,mmHg\r\n"
        );
        assert_eq!(
            readings_csv(&[]),
            "taken_at,kind,value,second_value,unit\r\n"
        );
    }

    #[test]
    fn json_lists_readings_with_kind_and_unit() {
        let readings = [reading(
            VitalKind::BloodPressure,
            1_795_422_600,
            121.0,
            Some(79.0),
        )];
        let json: serde_json::Value =
            serde_json::from_str(&readings_json(&readings, 1_795_426_200)).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["exported_at"], "2026-11-23T09:30:00Z");
        let r = &json["readings"][0];
        assert_eq!(r["taken_at"], "2026-11-23T08:30:00Z");
        assert_eq!(r["taken_at_unix"], 1_795_422_600);
        assert_eq!(r["kind"], "blood_pressure");
        assert_eq!(r["label"], "Blood pressure");
        assert_eq!(r["value"], 121.0);
        assert_eq!(r["second_value"], 79.0);
        assert_eq!(r["unit"], "mmHg");
    }
}
