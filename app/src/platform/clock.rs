//! Dates and times in the person's own time zone, through the browser's `Date`:
//! the values of `datetime-local` inputs, entry names and chart labels.
//!
//! Records store Unix seconds; only what people read or type is local.

use wasm_bindgen::JsValue;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The local calendar fields of a Unix time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Full year.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
}

impl LocalTime {
    /// The local fields of `unix_seconds` in the browser's time zone.
    pub fn of(unix_seconds: i64) -> LocalTime {
        let date = js_sys::Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0));
        LocalTime {
            year: date.get_full_year() as i32,
            month: date.get_month() + 1,
            day: date.get_date(),
            hour: date.get_hours(),
            minute: date.get_minutes(),
        }
    }

    /// `2026-11-23`.
    pub fn date_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `08:30`.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// `2026-11-23T08:30`, the value a `datetime-local` input holds.
    pub fn input_value(&self) -> String {
        format!("{}T{}", self.date_iso(), self.time())
    }

    /// `2026-11-23 08:30`, for entry names that sort by time.
    pub fn stamp(&self) -> String {
        format!("{} {}", self.date_iso(), self.time())
    }

    /// `23 Nov`, for chart ticks.
    pub fn day_month(&self) -> String {
        format!("{} {}", self.day, MONTHS[(self.month as usize + 11) % 12])
    }

    /// `23 Nov 2026`.
    pub fn day_month_year(&self) -> String {
        format!("{} {}", self.day_month(), self.year)
    }
}

/// The Unix time of a `datetime-local` value (`YYYY-MM-DDTHH:MM`, optionally
/// with `:SS`) in the browser's time zone; `None` if it is not one.
pub fn parse_input_value(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let shape_ok = matches!(bytes.len(), 16 | 19)
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    // Without a zone suffix, `Date` reads a date-time form as local time.
    let millis = js_sys::Date::new(&JsValue::from_str(text)).get_time();
    if !millis.is_finite() {
        return None;
    }
    let unix = (millis / 1000.0).floor() as i64;
    // `Date` rolls 31 February into March; a real date reads back the same.
    (LocalTime::of(unix).input_value() == text[..16]).then_some(unix)
}

/// The Unix time of a local calendar time; out-of-range fields roll over as
/// `Date` rolls them (day 32 is the next month's first), which is what stepping
/// a chart's ticks by days or months needs.
pub fn local_unix(year: i32, month: i32, day: i32, hour: i32) -> i64 {
    let date = js_sys::Date::new_with_year_month_day_hr(year.max(0) as u32, month - 1, day, hour);
    (date.get_time() / 1000.0).floor() as i64
}

/// "23 Nov 2026 at 08:30", for a reading's time in sentences and tooltips.
pub fn reading_time(unix_seconds: i64) -> String {
    let t = LocalTime::of(unix_seconds);
    format!("{} at {}", t.day_month_year(), t.time())
}

/// [`iso_date_label`], or the text as given when it is not a date this
/// reads: what a page shows for a stored or imported date.
pub fn date_label(date: &str) -> String {
    iso_date_label(date).unwrap_or_else(|| date.to_owned())
}

/// "28 Feb 2026" for an ISO date (`2026-02-28`), as record dates are stored.
pub fn iso_date_label(date: &str) -> Option<String> {
    let mut parts = date.split('-').map(|p| p.parse::<u32>().ok());
    let (Some(Some(year)), Some(Some(month)), Some(Some(day)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let name = MONTHS.get(month.checked_sub(1)? as usize)?;
    Some(format!("{day} {name} {year}"))
}

/// Milliseconds on the page's clock (for transfer speeds and how often the
/// folder view catches up).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
