//! Unit tests of the module above, in memory and in a store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use shared::api::ErrorCode;

const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// A throttle in memory, or one whose counts live in a store (sled here,
/// as PostgreSQL would hold them for several servers).
fn throttle(stored: bool) -> (Throttle, Option<tempfile::TempDir>) {
    if !stored {
        return (Throttle::default(), None);
    }
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(crate::store::SledStore::open(dir.path()).unwrap());
    (Throttle::in_store(&store), Some(dir))
}

#[tokio::test]
async fn fail_a_poisoned_throttle_lets_nothing_through() {
    let t = std::sync::Arc::new(Throttle::default());
    let holder = t.clone();
    // A panic while the account counts are locked poisons the lock.
    let _ = std::thread::spawn(move || {
        let _held = holder.accounts.records.lock();
        panic!("poison the throttle's lock");
    })
    .join();
    assert!(t.check("ann", ADDR, 1000).await.is_err());
    assert!(t.admit("ann", ADDR, 1000).await.is_err());
}

#[tokio::test]
async fn five_free_then_doubling_up_to_a_minute() {
    for stored in [false, true] {
        let (t, _dir) = throttle(stored);
        let mut now = 1000;
        for _ in 0..FREE_FAILURES {
            t.check("ann", ADDR, now).await.unwrap();
            t.fail("ann", ADDR, now).await;
        }
        t.check("ann", ADDR, now).await.unwrap();
        let mut seen = Vec::new();
        for _ in 0..10 {
            t.fail("ann", ADDR, now).await;
            let e = t.check("ann", ADDR, now).await.unwrap_err();
            assert_eq!(e.code, ErrorCode::TooManyRequests);
            let wait: i64 = e
                .message
                .split_whitespace()
                .find_map(|w| w.parse().ok())
                .unwrap();
            seen.push(wait);
            now += wait;
            t.check("ann", ADDR, now).await.unwrap();
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        // Another name is not affected, and success resets the delay.
        t.check("bob", ADDR, now).await.unwrap();
        t.fail("ann", ADDR, now).await;
        t.succeed("ann").await;
        t.check("ann", ADDR, now).await.unwrap();
    }
}

#[tokio::test]
async fn hourly_cap_per_account_and_per_address() {
    for stored in [false, true] {
        let (t, _dir) = throttle(stored);
        for i in 0..ACCOUNT_FAILURES_PER_HOUR {
            t.fail("cap", ADDR, i as i64).await;
            t.succeed("cap").await;
        }
        let e = t.check("cap", ADDR, 200).await.unwrap_err();
        assert!(e.message.contains("3400 seconds"), "{}", e.message);
        t.check("cap", ADDR, 3600).await.unwrap();

        let other: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..ADDRESS_FAILURES_PER_HOUR {
            t.fail(&format!("u{i}"), other, 5000).await;
        }
        assert!(t.check("fresh", other, 5000).await.is_err());
        t.check("fresh", ADDR, 5000).await.unwrap();
    }
}

#[tokio::test]
async fn fail_starts_that_are_never_proven_are_throttled_like_wrong_passwords() {
    for stored in [false, true] {
        let (t, _dir) = throttle(stored);
        let now = 1000;
        for _ in 0..=FREE_FAILURES {
            t.admit("eve", ADDR, now).await.unwrap();
        }
        let e = t.admit("eve", ADDR, now).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::TooManyRequests);
        assert_eq!(e.retry_after, Some(1));
        // Refused starts are not counted again: after the wait, one more is free
        // of any extra penalty beyond the doubling.
        t.admit("eve", ADDR, now + 1).await.unwrap();
        assert_eq!(
            t.admit("eve", ADDR, now + 1).await.unwrap_err().retry_after,
            Some(2)
        );
    }
}

#[tokio::test]
async fn fail_no_more_than_the_hourly_cap_of_starts_whatever_the_pace() {
    for stored in [false, true] {
        let (t, _dir) = throttle(stored);
        let mut now = 10_000;
        let start = now;
        let mut admitted = 0;
        while now < start + HOUR {
            match t.admit("eve", ADDR, now).await {
                Ok(_) => admitted += 1,
                Err(e) => now += e.retry_after.unwrap() as i64 - 1,
            }
            now += 1;
        }
        assert!(admitted <= ACCOUNT_FAILURES_PER_HOUR, "{admitted}");
        assert!(admitted > FREE_FAILURES as usize);
    }
}

#[tokio::test]
async fn proven_attempts_leave_no_trace_in_any_count() {
    for stored in [false, true] {
        let (t, _dir) = throttle(stored);
        for i in 0..(ADDRESS_FAILURES_PER_HOUR as i64 * 2) {
            let a = t.admit("busy", ADDR, i).await.unwrap();
            t.proven("busy", ADDR, a).await;
            t.succeed("busy").await;
        }
        // Neither the account nor the address holds anything from them.
        for _ in 0..FREE_FAILURES {
            t.admit("busy", ADDR, 2000).await.unwrap();
        }
        t.admit("busy", ADDR, 2000).await.unwrap();
        assert!(t.admit("busy", ADDR, 2000).await.is_err());
        // Taking back an attempt that was counted keeps the others.
        let (t, _dir) = throttle(stored);
        let a = t.admit("ann", ADDR, 0).await.unwrap();
        for _ in 1..FREE_FAILURES {
            t.admit("ann", ADDR, 0).await.unwrap();
        }
        t.proven("ann", ADDR, a).await;
        // Four failures remain: two more starts are admitted, then the delay.
        t.admit("ann", ADDR, 0).await.unwrap();
        t.admit("ann", ADDR, 0).await.unwrap();
        assert!(t.admit("ann", ADDR, 0).await.is_err());
    }
}

#[test]
fn addresses_are_counted_by_ipv4_or_ipv6_slash_64() {
    let key = |s: &str| address_key(s.parse().unwrap());
    assert_eq!(key("192.0.2.7"), key("::ffff:192.0.2.7"));
    assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
    assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
}
