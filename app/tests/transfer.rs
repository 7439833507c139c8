//! The transfer engine's pieces that need no server: sizes and speeds as people
//! read them, the smoothed speed, the checks before an upload, preview kinds,
//! where a version's end lies, and WebCrypto's SHA-256 against the manifest's.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::transfer::{
    check_fits, first_marker_chunk, format_bytes, format_speed, mime_for, percent, preview_kind,
    sha256, text_file, PreviewKind, Progress, SpeedMeter,
};
use shared::{api::records::Usage, crypto::sign::part_hash, records::padded_len};
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
    assert_eq!(percent(u64::MAX - 1, u64::MAX), 99);
    let p = Progress {
        done: 4 * 1024 * 1024,
        total: 100 * 1024 * 1024,
        bytes_per_second: Some(12.34 * 1024.0 * 1024.0),
    };
    assert_eq!(p.percent(), 4);
    assert_eq!(p.describe(), "4 MB of 100 MB, 12.3 MB/s");
}

#[wasm_bindgen_test]
fn speed_is_smoothed() {
    let mut meter = SpeedMeter::new();
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
fn too_large_or_over_quota_is_refused_with_the_limit_named() {
    let usage = Usage {
        used_bytes: 900,
        quota_bytes: 10 * 1024 * 1024,
        max_file_bytes: 5 * 1024 * 1024,
    };
    assert!(check_fits("scan.pdf", 1024 * 1024, &usage).is_ok());
    let big = check_fits("scan.pdf", 6 * 1024 * 1024, &usage).unwrap_err();
    assert!(big.contains("“scan.pdf” is 6 MB"), "{big}");
    assert!(big.contains("5 MB limit"), "{big}");
    assert!(big.contains("Nothing was sent"), "{big}");
    let full = Usage {
        used_bytes: 9 * 1024 * 1024,
        ..usage
    };
    let message = check_fits("scan.pdf", 2 * 1024 * 1024, &full).unwrap_err();
    assert!(message.contains("does not fit"), "{message}");
    assert!(message.contains("1 MB of 10 MB"), "{message}");
}

#[wasm_bindgen_test]
fn mime_and_preview_kinds() {
    assert_eq!(mime_for("a.PDF", ""), "application/pdf");
    assert_eq!(mime_for("a.bin", "Image/PNG"), "image/png");
    assert_eq!(mime_for("noext", ""), "application/octet-stream");
    assert_eq!(preview_kind("image/png"), Some(PreviewKind::Image));
    assert_eq!(preview_kind("application/pdf"), Some(PreviewKind::Pdf));
    assert_eq!(
        preview_kind("text/plain; charset=utf-8"),
        Some(PreviewKind::Text)
    );
    // SVG can carry script; it is downloaded, not shown.
    assert_eq!(preview_kind("image/svg+xml"), None);
    assert!(preview_kind("text/html").is_some());
    assert_eq!(preview_kind("application/zip"), None);
}

#[wasm_bindgen_test]
fn the_marker_chunk_is_where_the_smallest_file_of_that_padded_size_ends() {
    let chunk = 4096u32;
    for len in [0u64, 1, 4095, 4096, 4097, 100_000, 1_000_000, 5_000_000] {
        let padded = padded_len(len);
        let first = first_marker_chunk(padded, chunk);
        // The file's own marker is at byte `len`: never before the first chunk
        // searched.
        assert!(first <= len / u64::from(chunk), "{len}");
        // And the smallest file with this padded length starts there.
        let smallest = (0..=len)
            .rev()
            .take_while(|l| padded_len(*l) == padded)
            .last()
            .unwrap_or(len);
        assert_eq!(first, smallest / u64::from(chunk), "{len}");
    }
}

#[wasm_bindgen_test]
async fn webcrypto_sha256_is_the_manifest_hash() {
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let js = js_sys::Uint8Array::from(&bytes[..]);
    assert_eq!(sha256(&js).await.unwrap(), part_hash(&bytes));
}

#[wasm_bindgen_test]
async fn a_note_becomes_a_text_file() {
    let file = text_file("Visit.txt", "Blood pressure fine.").unwrap();
    assert_eq!(file.name(), "Visit.txt");
    assert_eq!(file.type_(), "text/plain");
    assert_eq!(file.size() as u64, 20);
}
