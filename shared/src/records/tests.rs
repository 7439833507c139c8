//! The record steps: padding, the chunk layout, metadata sealing, the key tree
//! and its opening, each with its `fail_*` cases.

use super::*;
use crate::crypto::{
    aead::{
        Key256, {self},
    },
    CryptoError,
};

#[test]
fn padme_matches_the_paper() {
    // Values from the definition: 9 -> 10, 100 -> 104, 1000 -> 1024 (and
    // powers of two stay), overhead never above 12%.
    assert_eq!(padme(0), 0);
    assert_eq!(padme(1), 1);
    assert_eq!(padme(9), 10);
    assert_eq!(padme(100), 104);
    assert_eq!(padme(1000), 1024);
    assert_eq!(padme(1 << 20), 1 << 20);
    for len in (1..200_000u64).step_by(7).chain([u32::MAX as u64, 1 << 40]) {
        let p = padme(len);
        assert!(p >= len);
        assert!((p - len) as f64 <= len as f64 * 0.12 + 1.0, "{len} -> {p}");
    }
}

/// Found by `cargo fuzz` (target `shared_decode`, input
/// `crash-36d8d785ee47ee6b0c5b01cdb6b8ff5f539594a2`: file length
/// 0xFFFF_FFFF_FE00_1388): the Padmé rounding overflowed u64 for lengths near
/// `u64::MAX`, which a download computes from the server's sizes.
#[test]
fn padme_of_lengths_near_u64_max_saturates() {
    assert_eq!(padded_len(0xFFFF_FFFF_FE00_1388), u64::MAX);
    assert_eq!(legacy_padded_len(u64::MAX), u64::MAX);
    assert_eq!(padme(u64::MAX), u64::MAX);
    // The largest length that still rounds exactly (a mask of 2^57 - 1).
    let top = u64::MAX - ((1 << 57) - 1);
    assert_eq!(padme(top), top);
    assert_eq!(padme(top + 1), u64::MAX);
    // Still monotone across the edge.
    for len in [top - 1, top, top + 1, u64::MAX - 1] {
        assert!(padme(len) >= len && padme(len + 1) >= padme(len), "{len}");
    }
}

#[test]
fn small_files_pad_to_a_4_kib_floor_and_larger_ones_to_padme() {
    // Everything up to 4,095 bytes (with the marker, 4,096) looks the same.
    for len in [0u64, 1, 9, 100, 1000, 4094, 4095] {
        assert_eq!(padded_len(len), MIN_PADDED_LEN, "{len}");
    }
    // From there on, Padmé of the file and its marker, as before the floor.
    assert_eq!(padded_len(4096), padme(4097));
    assert!(padded_len(4096) > MIN_PADDED_LEN);
    for len in (0..300_000u64).step_by(97).chain([1 << 20, 5_000_000]) {
        assert_eq!(padded_len(len), padme(len + 1).max(4096), "{len}");
        assert!(padding_fits(len, padded_len(len)));
        // Versions written before the floor keep their Padmé length.
        assert!(padding_fits(len, legacy_padded_len(len)));
        assert!(!padding_fits(len, padded_len(len) + 1));
    }
    assert_eq!(legacy_padded_len(100), 104);
    assert!(!padding_fits(100, 105));
    assert!(!padding_fits(100, 4097));
}

#[test]
fn a_version_padded_before_the_floor_still_unpads() {
    let file: Vec<u8> = (0..100u8).collect();
    let layout = StreamLayout {
        file_len: 100,
        padded_len: legacy_padded_len(100),
        chunk_size: 16,
    };
    assert_eq!(layout.padded_len, 104);
    for pieces in [1, 7, 16, 200] {
        assert_eq!(unpad_all(&layout, &file, pieces), file);
    }
}

fn unpad_all(layout: &StreamLayout, file: &[u8], pieces: usize) -> Vec<u8> {
    let mut stream = Vec::new();
    for i in 0..layout.chunk_count() {
        let r = layout.file_range(i);
        layout.assemble(i, &file[r.start as usize..r.end as usize], &mut stream);
    }
    assert_eq!(stream.len() as u64, layout.padded_len);
    let mut un = Unpadder::new();
    let mut out = Vec::new();
    for piece in stream.chunks(pieces.max(1)) {
        un.update(piece, &mut out);
    }
    assert_eq!(un.finish().unwrap(), file.len() as u64);
    out
}

#[test]
fn layout_and_unpadder_round_trip() {
    for len in [0usize, 1, 15, 16, 17, 100, 127, 128, 129, 1000, 4095] {
        for fill in [0u8, 0x80, 7] {
            let file: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { fill } else { i as u8 })
                .collect();
            let layout = StreamLayout::new(len as u64, 16).unwrap();
            for pieces in [1, 5, 16, 1000] {
                assert_eq!(unpad_all(&layout, &file, pieces), file, "{len} {fill}");
            }
        }
    }
}

#[test]
fn files_ending_in_zeros_or_marker_survive() {
    let file = vec![0x80, 0, 0, 0x80, 0, 0];
    let layout = StreamLayout::new(6, 4).unwrap();
    assert_eq!(unpad_all(&layout, &file, 3), file);
}

#[test]
fn missing_marker_is_refused() {
    let mut un = Unpadder::new();
    let mut out = Vec::new();
    un.update(&[1, 2, 3, 0, 0], &mut out);
    assert_eq!(un.finish(), Err(CryptoError::Stream));
}

fn metadata() -> NodeMetadata {
    NodeMetadata {
        name: "Blood test.pdf".into(),
        record_type: RecordType::LabResult,
        description: String::new(),
        record_date: Some("2026-02-28".into()),
        created_at: 1,
        modified_at: 2,
        mime: Some("application/pdf".into()),
        size: Some(1234),
        vital: None,
        health: None,
    }
}

#[test]
fn metadata_round_trips_padded_and_bound_to_its_node() {
    let key = Key256::from_bytes([3; 32]);
    let sealed = seal_metadata(&key, &[1; 16], &metadata()).unwrap();
    assert_eq!((sealed.len() - aead::SEAL_OVERHEAD) % METADATA_BLOCK, 0);
    assert_eq!(open_metadata(&key, &[1; 16], &sealed).unwrap(), metadata());
    assert_eq!(
        open_metadata(&key, &[2; 16], &sealed),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn keys_are_bound_to_their_place() {
    let parent = Key256::from_bytes([1; 32]);
    let child = Key256::from_bytes([2; 32]);
    let wrapped = wrap_child_key(&parent, &[5; 16], &[6; 16], &child).unwrap();
    assert_eq!(
        unwrap_child_key(&parent, &[5; 16], &[6; 16], &wrapped).unwrap(),
        child
    );
    assert!(unwrap_child_key(&parent, &[5; 16], &[7; 16], &wrapped).is_err());
    let content = wrap_content_key(&child, &[5; 16], 2, &parent).unwrap();
    assert_eq!(
        unwrap_content_key(&child, &[5; 16], 2, &content).unwrap(),
        parent
    );
    assert!(unwrap_content_key(&child, &[5; 16], 3, &content).is_err());
}

#[test]
fn validation_messages() {
    let mut m = metadata();
    assert!(m.validate().is_ok());
    m.name = "  ".into();
    assert_eq!(m.validate(), Err("Enter a name.".into()));
    m.name = "x".repeat(256);
    assert!(m.validate().unwrap_err().contains("too long"));
    m.name = "ok".into();
    m.record_date = Some("2026-02-30".into());
    assert!(m.validate().is_err());
    let reading = |kind, value, second| VitalReading {
        kind,
        taken_at: 0,
        value,
        second,
    };
    assert!(reading(VitalKind::Temperature, 37.2, None)
        .validate()
        .is_ok());
    assert!(reading(VitalKind::Temperature, 73.0, None)
        .validate()
        .is_err());
    assert!(reading(VitalKind::Pulse, f64::NAN, None)
        .validate()
        .is_err());
    assert!(reading(VitalKind::BloodPressure, 120.0, Some(80.0))
        .validate()
        .is_ok());
    assert!(reading(VitalKind::BloodPressure, 80.0, Some(120.0))
        .validate()
        .is_err());
    assert!(reading(VitalKind::BloodPressure, 120.0, None)
        .validate()
        .is_err());
}

#[test]
fn item_details_from_a_form_and_back_into_metadata() {
    let details =
        ItemDetails::from_form(RecordType::LabResult, " 2026-03-14 ", "  HbA1c, fasting ").unwrap();
    assert_eq!(details.record_date.as_deref(), Some("2026-03-14"));
    assert_eq!(details.description, "HbA1c, fasting");
    let mut meta = metadata();
    details.apply(&mut meta);
    assert_eq!(ItemDetails::of(&meta), details);
    meta.validate().unwrap();
    // No date is fine; an empty one means none.
    let none = ItemDetails::from_form(RecordType::Other, "", "").unwrap();
    assert_eq!(none, ItemDetails::of_type(RecordType::Other));
}

#[test]
fn fail_item_details_with_a_bad_date_or_a_long_description() {
    for bad in ["2026-02-30", "14/03/2026", "2026-3-14", "tomorrow"] {
        let err = ItemDetails::from_form(RecordType::Note, bad, "").unwrap_err();
        assert!(err.contains("real date"), "{bad}: {err}");
    }
    let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
    let err = ItemDetails::from_form(RecordType::Note, "", &long).unwrap_err();
    assert!(err.contains("too long"));
}

#[test]
fn search_filter_by_words_type_and_date_range() {
    let dated = |name: &str, t: RecordType, date: Option<&str>, description: &str| {
        let mut m = metadata();
        m.name = name.to_owned();
        ItemDetails {
            record_type: t,
            record_date: date.map(str::to_owned),
            description: description.to_owned(),
        }
        .apply(&mut m);
        m
    };
    let march = dated(
        "blood.pdf",
        RecordType::LabResult,
        Some("2026-03-14"),
        "HbA1c",
    );
    let june = dated(
        "xray.png",
        RecordType::Imaging,
        Some("2026-06-01"),
        "Left wrist",
    );
    let undated = dated("notes.txt", RecordType::Note, None, "");
    let filter =
        |q: &str, t: Option<RecordType>, from: Option<&str>, to: Option<&str>| SearchFilter {
            query: q.to_owned(),
            record_type: t,
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        };
    assert!(SearchFilter::default().is_empty());
    // Words match the name or the description, case ignored.
    assert!(filter("hba1c", None, None, None).matches(&march));
    assert!(filter("WRIST", None, None, None).matches(&june));
    assert!(!filter("wrist", None, None, None).matches(&march));
    // Type.
    assert!(filter("", Some(RecordType::Imaging), None, None).matches(&june));
    assert!(!filter("", Some(RecordType::Imaging), None, None).matches(&march));
    // A range includes both ends; an undated item is outside any range.
    let spring = filter("", None, Some("2026-03-14"), Some("2026-05-31"));
    assert!(spring.matches(&march));
    assert!(!spring.matches(&june));
    assert!(!spring.matches(&undated));
    assert!(filter("", None, Some("2026-06-01"), None).matches(&june));
    assert!(filter("", None, None, Some("2026-03-14")).matches(&march));
    assert!(!filter("", None, None, Some("2026-03-13")).matches(&march));
    // All parts must hold.
    assert!(!filter(
        "blood",
        Some(RecordType::LabResult),
        Some("2026-04-01"),
        None
    )
    .matches(&march));
}
