//! A line chart of one kind of vital sign over time, drawn as SVG in Rust.
//!
//! Screen readers get one sentence (the `role="img"` label: kind, count, range,
//! latest); the table of readings next to it is the full accessible version.

use leptos::prelude::*;
use shared::{
    records::{VitalKind, VitalReading},
    vitals::{format_number, format_reading},
};

use crate::platform::clock::{local_unix, reading_time, LocalTime};

const LEFT: f64 = 52.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 50.0;

/// Whether the window is phone-narrow, where the chart draws a narrower picture.
pub fn is_compact() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w < 560.0)
}

/// The drawing's size in SVG units and about how many time intervals fit. On a
/// phone a narrower drawing keeps the labels near their real size instead of
/// shrinking the whole picture.
fn canvas(compact: bool) -> (f64, f64, usize) {
    if compact {
        (360.0, 260.0, 3)
    } else {
        (600.0, 290.0, 5)
    }
}

/// The smallest value range a chart of `kind` spans, so that a steady series
/// draws as a calm line rather than magnified noise.
fn min_span(kind: VitalKind) -> f64 {
    match kind {
        VitalKind::Temperature => 1.0,
        VitalKind::BloodPressure => 40.0,
        VitalKind::Pulse => 20.0,
        VitalKind::Weight => 4.0,
        VitalKind::BloodGlucose => 2.0,
        VitalKind::OxygenSaturation => 6.0,
        VitalKind::RespiratoryRate => 8.0,
        VitalKind::Height => 4.0,
    }
}

/// The next "round" step (1, 2, 2.5 or 5 times a power of ten) at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|n| fraction <= *n + 1e-9)
        .unwrap_or(10.0);
    nice * magnitude
}

/// The value axis: round bounds around `low..=high` and their tick values.
pub fn value_ticks(low: f64, high: f64, min_span: f64) -> Vec<f64> {
    let (mut a, mut b) = (low, high);
    if b - a < min_span {
        let mid = (a + b) / 2.0;
        a = mid - min_span / 2.0;
        b = mid + min_span / 2.0;
    }
    let step = nice_step((b - a) / 4.0);
    let first = (a / step).floor() * step;
    let last = (b / step).ceil() * step;
    let count = ((last - first) / step).round() as usize;
    (0..=count.max(1))
        .map(|i| first + step * i as f64)
        .collect()
}

/// Decimals that show every tick value of `step` exactly.
fn tick_decimals(step: f64) -> usize {
    (0..3)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(2)
}

/// One tick of the time axis: where, and one or two lines of label.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeTick {
    /// Unix seconds.
    pub at: i64,
    /// The main label ("08:00", "23 Nov", "Nov").
    pub label: String,
    /// A second line where the day or year changes ("23 Nov", "2026").
    pub context: Option<String>,
}

#[derive(Clone, Copy)]
enum Grain {
    Hours(i32),
    Days(i32),
    Months(i32),
}

/// The time axis over `first..=last`: ticks on local hour, day or month
/// boundaries, about `intervals` of them apart (at most two more), the first at
/// or before `first` and the last at or after `last`.
pub fn time_ticks(first: i64, last: i64, intervals: usize) -> Vec<TimeTick> {
    let span = (last - first).max(0) as f64;
    let fits = |units: f64, step: i32| units / f64::from(step) <= intervals as f64;
    let hours = span / 3600.0;
    let days = span / 86_400.0;
    let grain = if let Some(h) = [1, 2, 3, 6, 12].into_iter().find(|h| fits(hours, *h)) {
        Grain::Hours(h)
    } else if let Some(d) = [1, 2, 3, 7, 14].into_iter().find(|d| fits(days, *d)) {
        Grain::Days(d)
    } else {
        let months = days / 30.44;
        Grain::Months(
            [1, 2, 3, 6, 12, 24, 60]
                .into_iter()
                .find(|m| fits(months, *m))
                .unwrap_or(120),
        )
    };
    let start = LocalTime::of(first);
    let (y, m, d) = (start.year, start.month as i32, start.day as i32);
    let tick_at = |k: i32| match grain {
        Grain::Hours(step) => local_unix(y, m, d, (start.hour as i32 / step) * step + k * step),
        Grain::Days(step) => local_unix(y, m, d + k * step, 0),
        Grain::Months(step) => local_unix(y, m + k * step, 1, 0),
    };
    let mut ticks = Vec::new();
    let mut previous: Option<LocalTime> = None;
    for k in 0..64 {
        let at = tick_at(k);
        let t = LocalTime::of(at);
        let (label, context) = match grain {
            Grain::Hours(_) => {
                let new_day = previous.is_none_or(|p| p.day != t.day || p.month != t.month);
                (t.time(), new_day.then(|| t.day_month()))
            }
            Grain::Days(_) => {
                let new_year = previous.is_none_or(|p| p.year != t.year);
                (t.day_month(), new_year.then(|| t.year.to_string()))
            }
            Grain::Months(_) => {
                let new_year = previous.is_none_or(|p| p.year != t.year);
                let month = t.day_month();
                let month = month.split(' ').nth(1).unwrap_or_default().to_owned();
                (month, new_year.then(|| t.year.to_string()))
            }
        };
        ticks.push(TimeTick { at, label, context });
        previous = Some(t);
        if at >= last && k >= 1 {
            break;
        }
    }
    ticks
}

/// The one-sentence summary a screen reader hears for the chart.
pub fn chart_summary(kind: VitalKind, readings: &[VitalReading]) -> String {
    let label = kind.label();
    let Some(latest) = readings.iter().max_by_key(|r| r.taken_at) else {
        return format!("{label} chart: no readings yet.");
    };
    let first = readings
        .iter()
        .map(|r| r.taken_at)
        .min()
        .unwrap_or(latest.taken_at);
    let count = readings.len();
    let latest_text = format!(
        "latest {} on {}",
        format_reading(latest),
        reading_time(latest.taken_at)
    );
    if count == 1 {
        return format!("{label} chart: 1 reading, {latest_text}.");
    }
    let range = |values: &mut dyn Iterator<Item = f64>| {
        let values: Vec<f64> = values.collect();
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!(
            "{} to {}",
            format_number(kind, low),
            format_number(kind, high)
        )
    };
    let ranges = if kind == VitalKind::BloodPressure {
        format!(
            "systolic {}, diastolic {} {}",
            range(&mut readings.iter().map(|r| r.value)),
            range(&mut readings.iter().filter_map(|r| r.second)),
            kind.unit()
        )
    } else {
        format!(
            "{} {}",
            range(&mut readings.iter().map(|r| r.value)),
            kind.unit()
        )
    };
    format!(
        "{label} chart: {count} readings from {} to {}, {ranges}; {latest_text}.",
        LocalTime::of(first).day_month_year(),
        LocalTime::of(latest.taken_at).day_month_year()
    )
}

/// A point to draw: where, and its tooltip.
type Point = (f64, f64, String);

/// Everything the chart draws, in SVG coordinates.
struct Plot {
    width: f64,
    height: f64,
    /// The x axis's height.
    bottom: f64,
    /// Grid lines: height and label.
    y_ticks: Vec<(f64, String)>,
    /// Time ticks: position, label and the context below it.
    x_ticks: Vec<(f64, String, Option<String>)>,
    /// The value (systolic for blood pressure).
    main: Vec<Point>,
    /// The diastolic value, for blood pressure.
    second: Vec<Point>,
}

/// `points` as an SVG polyline.
fn polyline(points: &[Point]) -> String {
    points
        .iter()
        .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lays `readings` (of `kind`, sorted by time, at least one) out on the canvas.
fn plot(kind: VitalKind, readings: &[VitalReading], compact: bool) -> Plot {
    let first = readings[0].taken_at;
    let last = readings[readings.len() - 1].taken_at;
    // A lone reading sits in the middle of an hour-wide axis.
    let pad = if first == last { 1800 } else { 0 };
    let (width, height, intervals) = canvas(compact);
    let ticks_x = time_ticks(first - pad, last + pad, intervals);
    let x0 = ticks_x.first().map_or(first, |t| t.at) as f64;
    let x1 = ticks_x.last().map_or(last, |t| t.at).max(x0 as i64 + 1) as f64;
    let values: Vec<f64> = readings
        .iter()
        .flat_map(|r| std::iter::once(r.value).chain(r.second))
        .collect();
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ticks_y = value_ticks(low, high, min_span(kind));
    let y0 = ticks_y[0];
    let y1 = ticks_y[ticks_y.len() - 1];
    let decimals = tick_decimals(ticks_y.get(1).map_or(1.0, |t| t - y0));

    let plot_w = width - LEFT - RIGHT;
    let plot_h = height - TOP - BOTTOM;
    let sx = move |t: i64| LEFT + (t as f64 - x0) / (x1 - x0) * plot_w;
    let sy = move |v: f64| TOP + (y1 - v) / (y1 - y0) * plot_h;

    let blood_pressure = kind == VitalKind::BloodPressure;
    let unit = kind.unit();
    let series = |pick: fn(&VitalReading) -> Option<f64>, name: &'static str| -> Vec<Point> {
        readings
            .iter()
            .filter_map(|r| {
                pick(r).map(|v| {
                    let what = if name.is_empty() {
                        format!("{} {unit}", format_number(kind, v))
                    } else {
                        format!("{name} {} {unit}", format_number(kind, v))
                    };
                    (
                        sx(r.taken_at),
                        sy(v),
                        format!("{what}, {}", reading_time(r.taken_at)),
                    )
                })
            })
            .collect()
    };
    Plot {
        width,
        height,
        bottom: TOP + plot_h,
        y_ticks: ticks_y
            .iter()
            .map(|v| (sy(*v), format!("{v:.decimals$}")))
            .collect(),
        x_ticks: ticks_x
            .iter()
            .map(|t| (sx(t.at), t.label.clone(), t.context.clone()))
            .collect(),
        main: series(
            |r| Some(r.value),
            if blood_pressure { "Systolic" } else { "" },
        ),
        second: if blood_pressure {
            series(|r| r.second, "Diastolic")
        } else {
            Vec::new()
        },
    }
}

/// The readings of `kind` drawn over time, or a friendly sentence when there
/// are none. `readings` may hold other kinds; they are left out.
#[component]
pub fn VitalChart(
    /// Which vital sign to draw.
    kind: VitalKind,
    /// Readings, any order.
    readings: Vec<VitalReading>,
    /// Draw for a phone-narrow window (default: the window now).
    #[prop(default = is_compact())]
    compact: bool,
) -> impl IntoView {
    let mut readings: Vec<VitalReading> = readings.into_iter().filter(|r| r.kind == kind).collect();
    shared::sort::sort_by_key(&mut readings, |r| r.taken_at);
    if readings.is_empty() {
        return view! {
            <p class="chart-empty">
                {format!(
                    "No {} readings yet. Add one with the form and it will be drawn here.",
                    kind.label().to_lowercase()
                )}
            </p>
        }
        .into_any();
    }
    let Plot {
        width,
        height,
        bottom,
        y_ticks,
        x_ticks,
        main,
        second,
    } = plot(kind, &readings, compact);
    let blood_pressure = kind == VitalKind::BloodPressure;
    let (main_line, second_line) = (polyline(&main), polyline(&second));
    view! {
        <svg
            class="chart"
            role="img"
            aria-label=chart_summary(kind, &readings)
            viewBox=format!("0 0 {width} {height}")
            preserveAspectRatio="xMidYMid meet"
            focusable="false"
        >
            <text class="chart__unit" x="8" y="18">{kind.unit()}</text>
            <ChartAxes width=width bottom=bottom y_ticks=y_ticks x_ticks=x_ticks/>
            <polyline class="chart__line" points=main_line/>
            {blood_pressure.then(|| view! {
                <polyline class="chart__line chart__line--second" points=second_line/>
            })}
            <ChartPoints main=main second=second/>
            {blood_pressure.then(|| view! {
                <g class="chart__legend" transform=format!("translate({} 14)", width - RIGHT - 220.0)>
                    <line class="chart__line" x1="0" x2="22" y1="0" y2="0"/>
                    <circle class="chart__point" cx="11" cy="0" r="4.5"/>
                    <text class="chart__legend-text" x="30" y="4">"Systolic"</text>
                    <line class="chart__line chart__line--second" x1="110" x2="132" y1="0" y2="0"/>
                    <rect class="chart__point chart__point--second" x="117" y="-4" width="8" height="8"/>
                    <text class="chart__legend-text" x="140" y="4">"Diastolic"</text>
                </g>
            })}
        </svg>
    }
    .into_any()
}

/// The value grid with its labels, the two axes and the time ticks.
#[component]
fn ChartAxes(
    width: f64,
    bottom: f64,
    y_ticks: Vec<(f64, String)>,
    x_ticks: Vec<(f64, String, Option<String>)>,
) -> impl IntoView {
    view! {
        {y_ticks.into_iter().map(|(y, label)| view! {
            <line class="chart__grid" x1=LEFT x2=width - RIGHT y1=y y2=y/>
            <text class="chart__tick" x=LEFT - 8.0 y=y + 4.0 text-anchor="end">{label}</text>
        }).collect_view()}
        <line class="chart__axis" x1=LEFT x2=LEFT y1=TOP y2=bottom/>
        <line class="chart__axis" x1=LEFT x2=width - RIGHT y1=bottom y2=bottom/>
        {x_ticks.into_iter().map(|(x, label, context)| view! {
            <line class="chart__axis" x1=x x2=x y1=bottom y2=bottom + 5.0/>
            <text class="chart__tick" x=x y=bottom + 20.0 text-anchor="middle">{label}</text>
            {context.map(|c| view! {
                <text class="chart__tick chart__tick--context" x=x y=bottom + 36.0 text-anchor="middle">{c}</text>
            })}
        }).collect_view()}
    }
}

/// One circle per value (a square per diastolic value), each with its tooltip.
#[component]
fn ChartPoints(main: Vec<Point>, second: Vec<Point>) -> impl IntoView {
    view! {
        {main.into_iter().map(|(x, y, title)| view! {
            <circle class="chart__point" data-point="" cx=format!("{x:.1}") cy=format!("{y:.1}") r="4.5">
                <title>{title}</title>
            </circle>
        }).collect_view()}
        {second.into_iter().map(|(x, y, title)| view! {
            <rect class="chart__point chart__point--second" data-point=""
                x=format!("{:.1}", x - 4.0) y=format!("{:.1}", y - 4.0) width="8" height="8">
                <title>{title}</title>
            </rect>
        }).collect_view()}
    }
}
