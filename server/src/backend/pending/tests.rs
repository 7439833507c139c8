//! Unit tests of the module above, in memory and in a store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use shared::api::ErrorCode;

const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

#[tokio::test]
async fn taken_once_and_expired_never() {
    let map = PendingMap::new(10, 2, 2, "tests");
    let (a, _) = map.insert(100, A, String::from("a")).await.unwrap();
    assert_eq!(
        map.take(105, &a).await.unwrap().map(|(v, _)| v),
        Some(String::from("a"))
    );
    assert!(map.take(105, &a).await.unwrap().is_none(), "single use");
    let (b, _) = map.insert(100, A, String::from("b")).await.unwrap();
    assert!(map.take(110, &b).await.unwrap().is_none(), "expired");
}

#[tokio::test]
async fn fail_over_its_share_with_when_to_retry_but_others_still_get_in() {
    let map = PendingMap::new(10, 100, 2, "tests");
    map.insert(0, A, 1).await.unwrap();
    map.insert(4, A, 2).await.unwrap();
    let e = map.insert(5, A, 3).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::TooManyRequests);
    assert_eq!(e.retry_after, Some(5));
    map.insert(5, B, 4).await.unwrap();
    // Once its oldest has expired, the address has room again.
    map.insert(10, A, 5).await.unwrap();
}

#[tokio::test]
async fn a_full_map_evicts_the_oldest_rather_than_refusing() {
    let map = PendingMap::new(10, 3, 3, "tests").logging_abandoned();
    let (first, _) = map.insert(0, A, String::from("a1")).await.unwrap();
    map.insert(1, A, String::from("a2")).await.unwrap();
    map.insert(2, A, String::from("a3")).await.unwrap();
    let (late, _) = map.insert(3, B, String::from("b1")).await.unwrap();
    assert_eq!(map.len(), 3);
    assert!(
        map.take(3, &first).await.unwrap().is_none(),
        "the oldest made room"
    );
    assert_eq!(
        map.take(3, &late).await.unwrap().map(|(v, _)| v),
        Some(String::from("b1"))
    );
    assert_eq!(map.drain_abandoned(3).await, vec![String::from("a1")]);
}

#[tokio::test]
async fn abandoned_entries_are_handed_out_once_and_taken_ones_never() {
    let map = PendingMap::new(10, 10, 10, "tests").logging_abandoned();
    let (a, _) = map.insert(0, A, String::from("finished")).await.unwrap();
    map.insert(0, A, String::from("left")).await.unwrap();
    let (late, _) = map.insert(0, B, String::from("too late")).await.unwrap();
    assert!(map.take(5, &a).await.unwrap().is_some());
    assert!(map.drain_abandoned(5).await.is_empty());
    assert!(map.take(10, &late).await.unwrap().is_none());
    let mut gone = map.drain_abandoned(10).await;
    gone.sort();
    assert_eq!(gone, vec![String::from("left"), String::from("too late")]);
    assert!(map.drain_abandoned(100).await.is_empty());
    assert!(map.is_empty());
    // Maps that do not log keep nothing.
    let quiet = PendingMap::new(10, 10, 10, "tests");
    quiet.insert(0, A, 1).await.unwrap();
    assert!(quiet.drain_abandoned(20).await.is_empty());
}

/// Two servers' maps of one kind on one store.
fn two_servers(key: [u8; 32]) -> (tempfile::TempDir, Arc<dyn Store>, [PendingMap<String>; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(crate::store::SledStore::open(dir.path()).unwrap());
    let key = TotpKey::from_bytes(key);
    let map = || {
        PendingMap::new(10, 100, 2, "tests")
            .logging_abandoned()
            .in_store(&store, &key, 9)
    };
    let maps = [map(), map()];
    (dir, store, maps)
}

async fn rows(store: &Arc<dyn Store>) -> usize {
    store
        .scan_prefix(crate::store::Space::Sessions, b"", None, usize::MAX)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn in_a_shared_store_started_on_one_server_taken_once_on_another() {
    let (_dir, store, [a, b]) = two_servers([7; 32]);
    let (id, expires) = a.insert(0, A, String::from("state")).await.unwrap();
    assert_eq!(rows(&store).await, 3);
    assert_eq!(
        b.take(5, &id).await.unwrap(),
        Some((String::from("state"), expires))
    );
    assert!(a.take(5, &id).await.unwrap().is_none(), "single use");
    assert_eq!(rows(&store).await, 0, "taking removes every row");
}

#[tokio::test]
async fn in_a_shared_store_an_address_share_counts_every_servers_entries() {
    let (_dir, _store, [a, b]) = two_servers([7; 32]);
    a.insert(0, A, String::from("1")).await.unwrap();
    b.insert(4, A, String::from("2")).await.unwrap();
    let e = a.insert(5, A, String::from("3")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::TooManyRequests);
    assert_eq!(e.retry_after, Some(5));
    b.insert(5, B, String::from("4")).await.unwrap();
    // Once its oldest has expired, the address has room again.
    a.insert(10, A, String::from("5")).await.unwrap();
}

#[tokio::test]
async fn in_a_shared_store_an_expired_entry_is_handed_out_by_one_server_only() {
    let (_dir, store, [a, b]) = two_servers([7; 32]);
    let (id, _) = a.insert(0, A, String::from("left")).await.unwrap();
    a.insert(5, B, String::from("later")).await.unwrap();
    assert!(b.take(10, &id).await.unwrap().is_none(), "expired");
    let (mut from_a, from_b) = (a.drain_abandoned(10).await, b.drain_abandoned(10).await);
    from_a.extend(from_b);
    assert_eq!(from_a, vec![String::from("left")]);
    assert_eq!(rows(&store).await, 3, "the live entry stays");
}

#[tokio::test]
async fn in_a_shared_store_entries_are_sealed_under_the_servers_key() {
    let (dir, store, [a, _]) = two_servers([7; 32]);
    let (id, _) = a
        .insert(0, A, String::from("opaque-state-marker"))
        .await
        .unwrap();
    let all = store
        .scan_prefix(crate::store::Space::Sessions, b"", None, usize::MAX)
        .await
        .unwrap();
    assert!(all
        .iter()
        .all(|(_, v)| !v.windows(12).any(|w| w == b"opaque-state")));
    // A server given another key file cannot use it, and says so.
    let other = PendingMap::<String>::new(10, 100, 2, "tests").in_store(
        &store,
        &TotpKey::from_bytes([8; 32]),
        9,
    );
    let e = other.take(1, &id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal);
    drop(dir);
}
