//! The export's zip container: entries stream through the writer and come back
//! out of an independent reading (names, content, CRC-32 by `crc32fast`), names
//! are made safe and unique, and the Blob sink keeps every byte.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::tasks::export::{add_blob, safe_name, BlobSink, ExportError, ZipBuilder, PART_BYTES};
use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// (path, is_dir, stored bytes) of every entry, in central-directory order,
/// each checked against its CRC-32 and sizes.
fn entries(zip: &[u8]) -> Vec<(String, bool, Vec<u8>)> {
    let archive = rawzip::ZipArchive::from_slice(zip).unwrap();
    let mut list = Vec::new();
    let mut iter = archive.entries();
    while let Some(entry) = iter.next_entry().unwrap() {
        let path = entry
            .file_path()
            .try_normalize()
            .unwrap()
            .as_ref()
            .to_owned();
        let is_dir = entry.is_dir();
        let size = entry.uncompressed_size_hint() as usize;
        let crc = entry.crc32();
        let local = archive.get_entry(entry.wayfinder()).unwrap();
        let data = local.data()[..size].to_vec();
        assert_eq!(crc32fast::hash(&data), crc, "{path}");
        list.push((path, is_dir, data));
    }
    list
}

#[wasm_bindgen_test]
async fn entries_round_trip_with_folders_and_streams() {
    let mut zip = ZipBuilder::new(Vec::new());
    let top = zip
        .add_dir("", "medvault-record-2026-11-23", 1_795_422_600)
        .unwrap();
    let labs = zip.add_dir(&top, "Lab results", 1_795_422_600).unwrap();
    zip.add_bytes(&labs, "Blood test.txt", 1_795_422_600, b"haemoglobin 14.1")
        .unwrap();
    // Content arriving in pieces, as a download does.
    let mut pieces = vec![vec![1u8; 1000], vec![2u8; 5], Vec::new(), vec![3u8; 70_000]].into_iter();
    zip.add_stream(&labs, "scan.bin", 1_795_422_600, || {
        let next = pieces.next();
        async move { Ok::<_, ExportError>(next) }
    })
    .await
    .unwrap();
    zip.add_bytes(&top, "empty.txt", 0, b"").unwrap();
    let bytes = zip.finish().unwrap();

    assert_eq!(&bytes[..4], b"PK\x03\x04", "starts with a local header");
    let eocd = bytes.len() - 22;
    assert_eq!(
        &bytes[eocd..eocd + 4],
        b"PK\x05\x06",
        "ends with the end record"
    );

    let list = entries(&bytes);
    let names: Vec<&str> = list.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "medvault-record-2026-11-23/",
            "medvault-record-2026-11-23/Lab results/",
            "medvault-record-2026-11-23/Lab results/Blood test.txt",
            "medvault-record-2026-11-23/Lab results/scan.bin",
            "medvault-record-2026-11-23/empty.txt",
        ]
    );
    assert!(list[0].1 && list[1].1 && !list[2].1);
    assert_eq!(list[2].2, b"haemoglobin 14.1");
    let mut scan = vec![1u8; 1000];
    scan.extend([2u8; 5]);
    scan.extend(vec![3u8; 70_000]);
    assert_eq!(list[3].2, scan);
    assert!(list[4].2.is_empty());
}

#[wasm_bindgen_test]
fn names_are_safe_to_unpack_and_never_collide() {
    assert_eq!(safe_name(".."), "_");
    assert_eq!(safe_name("."), "_");
    assert_eq!(safe_name("   "), "_");
    assert_eq!(safe_name("a\\b"), "a_b");
    assert_eq!(safe_name("C:report?.pdf"), "C_report_.pdf");
    assert_eq!(safe_name("notes. "), "notes");
    assert_eq!(safe_name("Résumé ü.txt"), "Résumé ü.txt");

    let mut zip = ZipBuilder::new(Vec::new());
    let a = zip.add_dir("", "Notes", 0).unwrap();
    let b = zip.add_dir("", "notes", 0).unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("Notes/", "notes (2)/"));
    let f1 = zip.add_bytes(&a, "scan.pdf", 0, b"1").unwrap();
    let f2 = zip.add_bytes(&a, "Scan.PDF", 0, b"2").unwrap();
    let f3 = zip.add_bytes(&a, "scan.pdf", 0, b"3").unwrap();
    let dots = zip.add_bytes(&a, "..", 0, b"4").unwrap();
    assert_eq!(f1, "Notes/scan.pdf");
    assert_eq!(f2, "Notes/Scan (2).PDF");
    assert_eq!(f3, "Notes/scan (3).pdf");
    assert_eq!(dots, "Notes/_");
    let bytes = zip.finish().unwrap();
    let names: Vec<String> = entries(&bytes).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(names.len(), 6);
    assert!(names
        .iter()
        .all(|n| !n.split('/').any(|s| s == ".." || s == ".")));
}

async fn blob_bytes(blob: &web_sys::Blob) -> Vec<u8> {
    let buffer = JsFuture::from(blob.array_buffer()).await.unwrap();
    Uint8Array::new(&buffer).to_vec()
}

#[wasm_bindgen_test]
async fn the_blob_sink_keeps_every_byte_across_parts() {
    use std::io::Write;
    let data: Vec<u8> = (0..(PART_BYTES * 2 + 12_345))
        .map(|i| (i % 251) as u8)
        .collect();
    let mut sink = BlobSink::new();
    for piece in data.chunks(70_001) {
        sink.write_all(piece).unwrap();
    }
    sink.flush().unwrap();
    sink.write_all(b"tail").unwrap();
    assert_eq!(sink.written(), data.len() as u64 + 4);
    let blob = sink.into_blob("application/zip").unwrap();
    assert_eq!(blob.type_(), "application/zip");
    let back = blob_bytes(&blob).await;
    assert_eq!(&back[..data.len()], &data[..]);
    assert_eq!(&back[data.len()..], b"tail");
}

#[wasm_bindgen_test]
async fn a_blob_streams_into_a_zip_in_a_blob() {
    let content: Vec<u8> = (0..(PART_BYTES + 999)).map(|i| (i % 7) as u8).collect();
    let parts = js_sys::Array::of1(&Uint8Array::from(&content[..]));
    let file = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    let mut zip = ZipBuilder::new(BlobSink::new());
    add_blob(&mut zip, "", "big.bin", 1_795_422_600, &file)
        .await
        .unwrap();
    zip.add_bytes("", "vital-signs.csv", 0, b"taken_at\r\n")
        .unwrap();
    let out = zip.finish().unwrap().into_blob("application/zip").unwrap();
    let bytes = blob_bytes(&out).await;
    let list = entries(&bytes);
    assert_eq!(list[0].0, "big.bin");
    assert_eq!(list[0].2, content);
    assert_eq!(list[1].0, "vital-signs.csv");
}
