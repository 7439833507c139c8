//! FHIR's `date`, `dateTime` and `instant` read into what the record keeps.

use serde_json::Value;

use crate::records::model::is_iso_date;

/// The day of a FHIR `date` or `dateTime` ("2024-03-05" or
/// "2024-03-05T10:00:00+01:00" gives "2024-03-05", the day as written there);
/// `None` for a partial date ("2024", "2024-03") or anything else.
pub fn date_of_datetime(text: &str) -> Option<String> {
    let day = text.get(..10)?;
    let rest = &text[10..];
    (is_iso_date(day) && (rest.is_empty() || rest.starts_with('T'))).then(|| day.to_owned())
}

/// Days from 1970-01-01 to a proleptic Gregorian date (the inverse of the
/// export's day count).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A FHIR `dateTime` with a time and a zone ("2024-03-05T10:00:00Z",
/// "…T10:00:00.250+01:00") as Unix seconds; a bare date is midnight UTC.
/// `None` for anything else (a time without a zone is not a moment).
pub fn unix_of_datetime(text: &str) -> Option<i64> {
    let day = date_of_datetime(text)?;
    let num = |s: &str| s.parse::<i64>().ok();
    let days = days_from_civil(num(&day[..4])?, num(&day[5..7])?, num(&day[8..10])?);
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(days * 86_400);
    }
    let time = rest.strip_prefix('T')?;
    if !time.is_ascii() || time.len() < 9 || &time[2..3] != ":" || &time[5..6] != ":" {
        return None;
    }
    let (h, m, s) = (num(&time[..2])?, num(&time[3..5])?, num(&time[6..8])?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut zone = &time[8..];
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &fraction[digits..];
    }
    let offset = match zone {
        "Z" => 0,
        _ if zone.len() == 6 && &zone[3..4] == ":" => {
            let sign = match &zone[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (zh, zm) = (num(&zone[1..3])?, num(&zone[4..6])?);
            if zh > 14 || zm > 59 {
                return None;
            }
            sign * (zh * 3600 + zm * 60)
        }
        _ => return None,
    };
    Some(days * 86_400 + h * 3600 + m * 60 + s - offset)
}

/// The optional dates of an imported `kind` that the record keeps as whole
/// days, as (JSON path, what the preview calls it).
fn optional_dates(kind: &str) -> &'static [(&'static [&'static str], &'static str)] {
    match kind {
        "MedicationStatement" => &[
            (&["effectivePeriod", "start"], "start date"),
            (&["effectivePeriod", "end"], "end date"),
        ],
        "Condition" => &[(&["onsetDateTime"], "onset")],
        "DocumentReference" => &[(&["date"], "date")],
        "Patient" => &[(&["birthDate"], "birth date")],
        _ => &[],
    }
}

/// A sentence for each optional date of `resource` that is there but not a
/// whole day.
pub(super) fn partial_dates(resource: &Value, kind: &str) -> Vec<String> {
    optional_dates(kind)
        .iter()
        .filter_map(|(path, label)| {
            let text = path
                .iter()
                .try_fold(resource, |v, key| v.get(key))?
                .as_str()?;
            date_of_datetime(text).is_none().then(|| {
                format!("its {label} “{text}” is not a whole day, so it comes in without one")
            })
        })
        .collect()
}
