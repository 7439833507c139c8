//! `tasks::progress` and the byte style on screen: percent done, the words of
//! a transfer's progress, and the smoothed speed.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::{
    components::format::{format_bytes, format_speed},
    tasks::progress::{percent, Pacer, Progress, SpeedMeter},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn sizes_read_naturally() {
    assert_eq!(format_bytes(0), "0 bytes");
    assert_eq!(format_bytes(1), "1 byte");
    assert_eq!(format_bytes(930), "930 bytes");
    assert_eq!(format_bytes(1024), "1 KB");
    assert_eq!(format_bytes(1536), "1.5 KB");
    assert_eq!(format_bytes(100 * 1024 * 1024), "100 MB");
    assert_eq!(format_bytes(12_900_000), "12.3 MB");
    assert_eq!(format_bytes(2 * 1024 * 1024 * 1024), "2 GB");
    assert_eq!(format_bytes(1024 * 1024 - 1), "1 MB");
}

#[wasm_bindgen_test]
fn speeds_read_naturally() {
    assert_eq!(format_speed(0.0), "0 MB/s");
    assert_eq!(format_speed(f64::NAN), "0 MB/s");
    assert_eq!(format_speed(12.34 * 1024.0 * 1024.0), "12.3 MB/s");
    assert_eq!(format_speed(250.0 * 1024.0 * 1024.0), "250 MB/s");
    assert_eq!(format_speed(20.0 * 1024.0), "20 KB/s");
}

#[wasm_bindgen_test]
fn percent_reaches_100_only_when_done() {
    assert_eq!(percent(0, 0), 100);
    assert_eq!(percent(0, 10), 0);
    assert_eq!(percent(999, 1000), 99);
    assert_eq!(percent(1000, 1000), 100);
    assert_eq!(percent(2000, 1000), 100);
    assert_eq!(percent(u64::MAX - 1, u64::MAX), 99);
    let p = Progress {
        done: 4 * 1024 * 1024,
        total: 100 * 1024 * 1024,
        bytes_per_second: Some(12.34 * 1024.0 * 1024.0),
        resumed_from: None,
    };
    assert_eq!(p.percent(), 4);
    assert_eq!(p.describe(), "4 MB of 100 MB, 12.3 MB/s");
    // Before there is a speed, only the sizes.
    let early = Progress {
        bytes_per_second: None,
        ..p
    };
    assert_eq!(early.describe(), "4 MB of 100 MB");
    // An upload going on after an interruption says from where.
    let resumed = Progress {
        resumed_from: Some(2 * 1024 * 1024),
        ..early
    };
    assert_eq!(
        resumed.describe(),
        "Continuing from 2 MB of 100 MB: 4 MB of 100 MB"
    );
    assert_eq!(Progress::default().percent(), 100);
}

#[wasm_bindgen_test]
fn speed_is_smoothed() {
    let mut meter = SpeedMeter::new();
    assert_eq!(meter.rate(), None);
    assert_eq!(meter.sample(0.0, 0), None);
    // 1 MB in one second: the first measurement is taken as it is.
    let first = meter.sample(1000.0, 1_000_000).unwrap();
    assert!((first - 1_000_000.0).abs() < 1.0);
    // A burst of 10 MB/s over 100 ms moves the estimate only part of the way.
    let burst = meter.sample(1100.0, 2_000_000).unwrap();
    assert!(burst > first && burst < 2_000_000.0, "{burst}");
    // A steady rate over a long time is reached.
    let mut t = 1100.0;
    let mut bytes = 2_000_000u64;
    for _ in 0..100 {
        t += 500.0;
        bytes += 1_500_000;
        meter.sample(t, bytes);
    }
    let steady = meter.rate().unwrap();
    assert!((steady - 3_000_000.0).abs() < 10_000.0, "{steady}");
    // No time passed, or the count went backwards: nothing changes.
    assert_eq!(meter.sample(t, bytes + 5), Some(steady));
    assert_eq!(meter.sample(t + 10.0, 0), Some(steady));
}

#[wasm_bindgen_test]
fn progress_is_reported_at_most_every_100_ms_and_always_at_the_end() {
    let mut pacer = Pacer::new();
    assert!(pacer.due(1000.0, 1, 10), "the first report");
    assert!(!pacer.due(1050.0, 2, 10), "50 ms later");
    assert!(!pacer.due(1099.0, 3, 10));
    assert!(pacer.due(1100.0, 4, 10), "100 ms later");
    assert!(pacer.due(1101.0, 10, 10), "the end, however soon");
    // A clock that went back does not silence the reports.
    assert!(pacer.due(500.0, 5, 10));
}
