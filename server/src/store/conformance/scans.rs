//! Prefix scans: order, bounds and paging with a cursor.

use std::future::Future;
use std::path::Path;

use super::fresh;
use crate::store::{keys::Key, Batch, Entry, Space, Store};

/// Prefix scans return exactly the keys with the prefix, in ascending byte
/// order, whatever the insertion order, and stop at the limit.
pub async fn scan_prefix_order_and_bounds<S: Store, O: Future<Output = S>>(
    open: &impl Fn(&Path) -> O,
) {
    let (_dir, store) = fresh(open).await;
    let s = Space::Grants;
    let odd: Vec<&[u8]> = vec![
        &[0x01, 0xff, 0xff],
        &[0x02],
        &[0x01],
        &[0x00, 0xff],
        &[0x01, 0x80],
        &[0x01, 0x00],
        &[0x01, 0xff],
        &[0x01, 0x01],
        &[0x00],
        &[0xff, 0xff, 0xff],
    ];
    for k in &odd {
        store.put(s, k.to_vec(), k.to_vec()).await.unwrap();
    }
    // Numbers inserted in reverse, so only the key encoding can sort them.
    let mut batch = Batch::new();
    for n in (0..300u64).rev() {
        batch.put(s, Key::new().u8(0x05).u64(n).finish(), n.to_be_bytes());
    }
    store.apply(batch).await.unwrap();

    let keys =
        |entries: Vec<Entry>| -> Vec<Vec<u8>> { entries.into_iter().map(|(k, _)| k).collect() };

    let ones = keys(
        store
            .scan_prefix(s, &[0x01], None, usize::MAX)
            .await
            .unwrap(),
    );
    let expected: Vec<Vec<u8>> = vec![
        vec![0x01],
        vec![0x01, 0x00],
        vec![0x01, 0x01],
        vec![0x01, 0x80],
        vec![0x01, 0xff],
        vec![0x01, 0xff, 0xff],
    ];
    assert_eq!(ones, expected, "prefix 01: only its keys, in byte order");

    let ff = keys(
        store
            .scan_prefix(s, &[0x01, 0xff], None, usize::MAX)
            .await
            .unwrap(),
    );
    assert_eq!(ff, vec![vec![0x01, 0xff], vec![0x01, 0xff, 0xff]]);
    let top = keys(
        store
            .scan_prefix(s, &[0xff], None, usize::MAX)
            .await
            .unwrap(),
    );
    assert_eq!(
        top,
        vec![vec![0xff, 0xff, 0xff]],
        "a prefix of 0xff bytes has no successor"
    );
    assert!(store
        .scan_prefix(s, &[0x03], None, usize::MAX)
        .await
        .unwrap()
        .is_empty());

    let numbers = store
        .scan_prefix(s, &[0x05], None, usize::MAX)
        .await
        .unwrap();
    assert_eq!(numbers.len(), 300);
    for (i, (k, v)) in numbers.iter().enumerate() {
        assert_eq!(k, &Key::new().u8(0x05).u64(i as u64).finish());
        assert_eq!(
            v,
            &(i as u64).to_be_bytes().to_vec(),
            "values travel with keys"
        );
    }

    let all = keys(store.scan_prefix(s, b"", None, usize::MAX).await.unwrap());
    assert_eq!(all.len(), odd.len() + 300);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "strictly ascending");

    let first = keys(store.scan_prefix(s, &[0x05], None, 10).await.unwrap());
    assert_eq!(first.len(), 10);
    assert_eq!(first[9], Key::new().u8(0x05).u64(9).finish());
    assert!(store
        .scan_prefix(s, &[0x05], None, 0)
        .await
        .unwrap()
        .is_empty());
}

/// Paging with the last key as `after` visits every key once, and a cursor
/// outside the prefix neither escapes nor skips it.
pub async fn scan_prefix_cursor<S: Store, O: Future<Output = S>>(open: &impl Fn(&Path) -> O) {
    let (_dir, store) = fresh(open).await;
    let s = Space::Audit;
    let mut batch = Batch::new();
    for n in 0..100u64 {
        batch.put(s, Key::new().u8(7).u64(n * 2).finish(), vec![n as u8]);
    }
    batch.put(s, vec![6], vec![0]).put(s, vec![8], vec![0]);
    store.apply(batch).await.unwrap();

    let full = store.scan_prefix(s, &[7], None, usize::MAX).await.unwrap();
    assert_eq!(full.len(), 100);
    let mut paged = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store
            .scan_prefix(s, &[7], after.as_deref(), 7)
            .await
            .unwrap();
        assert!(page.len() <= 7);
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        paged.extend(page);
    }
    assert_eq!(paged, full, "pages must join up to the full scan");

    // A cursor between two keys resumes at the next one.
    let between = Key::new().u8(7).u64(11).finish();
    let page = store.scan_prefix(s, &[7], Some(&between), 1).await.unwrap();
    assert_eq!(
        page.first().map(|(k, _)| k.clone()),
        Some(Key::new().u8(7).u64(12).finish()),
        "a cursor between keys"
    );
    // A cursor below the prefix starts at the prefix, not at the keys between
    // the cursor and the prefix (here `[6]`).
    let page = store.scan_prefix(s, &[7], Some(&[5]), 1).await.unwrap();
    assert_eq!(
        page.first().map(|(k, _)| k.clone()),
        Some(Key::new().u8(7).u64(0).finish()),
        "a cursor below the prefix"
    );
    // A cursor past the prefix yields nothing, not the next prefix's keys.
    assert!(store
        .scan_prefix(s, &[7], Some(&[7, 0xff]), usize::MAX)
        .await
        .unwrap()
        .is_empty());
}
