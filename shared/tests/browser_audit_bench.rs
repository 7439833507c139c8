//! The auditor's check in Chromium on 100,000 events (issue 8's target: ≤ 5 s).
//! Numbers are printed, nothing about speed is asserted. Ignored by default:
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 cargo test -p
//! shared --release --target wasm32-unknown-unknown --test browser_audit_bench
//! -- --include-ignored --nocapture`
//!
//! The log is built here (not timed), as the server would store it: events of
//! realistic shape, a signed head every 1,000 events, JSON pages of 1,000 entries
//! exactly as `audit/log` sends them. Timed: parsing every page's JSON and
//! feeding the verifier, i.e. all the browser's work except waiting for the
//! network (100 loopback round trips on top).
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Function, Reflect};
use shared::{
    api::audit::LogPage,
    audit::{AuditEvent, ChainVerifier, EventKind, LogEntry},
    crypto::{
        audit_chain::{link, ChainHead, GENESIS},
        sign::{sign, SigningKey},
    },
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const EVENTS: u64 = 100_000;
const PAGE: u64 = 1_000;

fn now_ms() -> f64 {
    let perf = Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: Function = Reflect::get(&perf, &"now".into()).unwrap().unchecked_into();
    now.call0(&perf).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_verify_100k_events() {
    let key = SigningKey::from_seed(&[9; 32]);
    let mut prev = GENESIS;
    let mut pages = Vec::new();
    let mut heads = Vec::new();
    let mut entries = Vec::new();
    for seq in 1..=EVENTS {
        let event = AuditEvent {
            seq,
            at: 1_790_000_000 + seq as i64,
            actor: Some([(seq % 251) as u8; 16]),
            session: Some([(seq % 13) as u8; 16]),
            kind: EventKind::ALL[seq as usize % EventKind::ALL.len()],
            subject: Some([(seq % 97) as u8; 16]),
            item: (seq % 3 == 0).then_some([(seq % 89) as u8; 16]),
        }
        .encode();
        prev = link(&prev, seq, &event);
        entries.push(LogEntry {
            seq,
            event,
            hash: prev,
        });
        if seq % PAGE == 0 {
            heads.push(sign(
                &key,
                ChainHead {
                    seq,
                    hash: prev,
                    signed_at: 1_790_000_000 + seq as i64,
                },
            ));
            let page = LogPage {
                entries: std::mem::take(&mut entries),
                head_seq: EVENTS,
            };
            pages.push(serde_json::to_string(&page).unwrap());
        }
    }
    let bytes: usize = pages.iter().map(String::len).sum();

    let mut runs = Vec::new();
    for _ in 0..3 {
        let started = now_ms();
        let mut verifier = ChainVerifier::new(&key.verifying_key(), &heads).unwrap();
        for text in &pages {
            let page: LogPage = serde_json::from_str(text).unwrap();
            verifier.feed(&page.entries).unwrap();
        }
        let verified = verifier.finish().unwrap();
        assert_eq!(verified.events, EVENTS);
        runs.push(now_ms() - started);
    }
    runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    console_log!(
        "audit verify: {EVENTS} events, {} signed heads, {:.1} MB of JSON in {} pages: median {:.0} ms (runs {:?} ms; target ≤ 5000 ms plus network)",
        heads.len(),
        bytes as f64 / 1e6,
        pages.len(),
        runs[1],
        runs.iter().map(|r| r.round()).collect::<Vec<_>>()
    );
}
