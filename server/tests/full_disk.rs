//! A full disk, for real: the data directory is a tmpfs of a few MiB mounted for
//! the test (as root; where mounting is not permitted the test prints why and
//! passes without running). Uploads fill it until the server refuses with 507
//! and its sentence; nothing acknowledged is lost, the store opens again after
//! a restart, and writes work again once there is room.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{files::content, patient::*, Server};
use shared::{api::ErrorCode, model::Id};

/// The test filesystem's size.
const DISK: u64 = 24 << 20;
/// A file kept beside the store, removed to play the operator making room.
const BALLAST: usize = 3 << 20;

#[tokio::test]
async fn a_full_disk_refuses_writes_with_507_loses_nothing_and_recovers() {
    if common::postgres::selected() {
        // The data directory's filesystem is sled's; PostgreSQL's full disk
        // is its own (SQLSTATE 53100, answered as full).
        println!("full-disk test skipped: the store is PostgreSQL");
        return;
    }
    let mut s = match Server::on_small_disk(DISK) {
        Ok(s) => s,
        Err(why) => {
            println!("full-disk test skipped: {why}");
            return;
        }
    };
    let ballast = s.data.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; BALLAST]).unwrap();
    let p = patient(&s, "fill").await;
    p.create_record(s.now()).await;
    let root = p.tree().await.root().unwrap().clone();

    // Upload 1 MiB files until the disk is full.
    let mut stored: Vec<(Id, Vec<u8>)> = Vec::new();
    let refusal = 'fill: loop {
        assert!(stored.len() < 64, "the disk never filled up");
        let bytes = content(&format!("file {}", stored.len()), 1 << 20);
        let up = match p
            .start_new(&root, &format!("scan {}", stored.len()), &bytes, s.now())
            .await
        {
            Ok(up) => up,
            Err(e) => break 'fill (e, None),
        };
        for (i, chunk) in up.file.chunks.iter().enumerate() {
            if let Err(e) = p
                .put(&up.node_id, up.ticket.version, i as u32, chunk.clone())
                .await
            {
                break 'fill (e, Some((up.node_id, up.ticket.version)));
            }
        }
        match p.finish(&up, s.now()).await {
            Ok(_) => stored.push((up.node_id, bytes)),
            Err(e) => break 'fill (e, Some((up.node_id, up.ticket.version))),
        }
    };
    let (failure, unfinished) = refusal;
    let error = expect_err::<()>(Err(failure), StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(error.code, ErrorCode::InsufficientStorage);
    assert_eq!(
        error.message,
        ErrorCode::InsufficientStorage.default_message()
    );
    assert!(stored.len() >= 3, "only {} files fitted", stored.len());

    // Reads still work while the disk is full, byte for byte.
    for (id, bytes) in &stored {
        assert_eq!(&p.download_by_id(id).await, bytes);
    }

    // A restart: the store opens, and every acknowledged file is intact.
    let mut p = p;
    p.c.detach();
    s.reopen_store();
    p.c.attach(&s);
    for (id, bytes) in &stored {
        assert_eq!(&p.download_by_id(id).await, bytes);
    }

    // The operator makes room: writes work again.
    std::fs::remove_file(&ballast).unwrap();
    if let Some((node, version)) = unfinished {
        // The refused upload is either still open (cancel frees its chunks) or
        // was never recorded.
        let _ = p.cancel(&node, version).await;
    }
    let root = p.tree().await.root().unwrap().clone();
    let bytes = content("after the disk had room again", 100_000);
    let id = p.upload_new(&root, "after.txt", &bytes, s.now()).await;
    assert_eq!(p.download_by_id(&id).await, bytes);
    for (id, bytes) in &stored {
        assert_eq!(&p.download_by_id(id).await, bytes);
    }
}
