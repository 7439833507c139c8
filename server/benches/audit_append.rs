//! Audit append throughput: many tasks append events concurrently to a sled
//! store in a temp dir; each append returns only after its batch is flushed.
//! Measured with one flush per append and with group commit at 64, 256 and
//! 1024 concurrent writers. Prints numbers,
//! asserts nothing about speed.
//!
//! Run: `cargo bench -p server --bench audit_append`.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Instant};

use server::{
    backend::audit::{AuditLog, Draft, MAX_GROUP},
    store::{Batch, SledStore, Store},
};
use shared::audit::EventKind;

async fn run(label: &str, writers: usize, group: usize, per_task: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).expect("open store"));
    let log = AuditLog::with_group_limit(store, Arc::new(|| 1_750_000_000), group);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..writers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                let draft = Draft::own(EventKind::SignIn, &[t as u8; 16]);
                log.append(Batch::new(), draft).await.expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    let n = writers * per_task;
    println!(
        "{label:<32} {n:>6} events from {writers:>4} tasks in {secs:>6.2} s = {:>8.0} events/s",
        n as f64 / secs
    );
}

#[tokio::main]
async fn main() {
    run("one flush per append", 64, 1, 100).await;
    // Concurrent requests are what group commit batches: more writers waiting,
    // larger groups per flush.
    for tasks in [64, 256, 1024] {
        run(
            "group commit (<= 1000 per flush)",
            tasks,
            MAX_GROUP,
            6400 / tasks,
        )
        .await;
    }
}
