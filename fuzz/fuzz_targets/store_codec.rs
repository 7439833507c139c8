//! The server's decoders of what it stored and of chunk paths, chosen by the
//! first byte: the store's value codec (version byte plus JSON) for every
//! type kept in sled, composite keys read back with `KeyReader`, and the
//! chunk address `/api/chunks/{node}/{version}/{index}` through axum's router
//! and the real extractor. Whatever decodes must re-encode to the same value.

#![no_main]

use std::sync::OnceLock;

use axum::{body::Body, http::Request, routing::get, Router};
use libfuzzer_sys::fuzz_target;
use medvault_fuzz::Cursor;
use serde::{de::DeserializeOwned, Serialize};
use server::backend::{
    audit::LegacyStoredKey,
    invites::StoredInvite,
    records::layout::{HeadOverride, RecordHead, StoredNode, StoredUpload, StoredVersion},
    sessions::SessionRecord,
    sharing::layout::StoredGrant,
    users::UserRecord,
};
use server::extract::ChunkAddress;
use server::store::codec;
use server::store::keys::{Key, KeyReader};
use shared::api::records::CHUNK_ROUTE;
use shared::crypto::audit_chain::ChainHead;
use shared::crypto::sign::Signed;
use tower::ServiceExt;

type Check = fn(&[u8]);

const VALUES: &[Check] = &[
    value::<StoredNode>,
    value::<StoredVersion>,
    value::<StoredUpload>,
    value::<RecordHead>,
    value::<HeadOverride>,
    value::<SessionRecord>,
    value::<UserRecord>,
    value::<StoredInvite>,
    value::<StoredGrant>,
    value::<LegacyStoredKey>,
    value::<Signed<ChainHead>>,
    value::<Signed<shared::records::state::RecordHead>>,
    value::<shared::records::state::HeadLeaf>,
    value::<Signed<shared::pins::PinEnvelope>>,
    value::<Vec<u8>>,
];

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    match c.u8() {
        0..=199 => VALUES[usize::from(c.u8()) % VALUES.len()](c.rest()),
        200..=229 => key(c),
        _ => chunk_path(c),
    }
});

/// A stored value: decoded, re-encoded, and decoded again to the same value
/// (compared as JSON trees, since maps may iterate in any order).
fn value<T: Serialize + DeserializeOwned>(bytes: &[u8]) {
    let Ok(decoded) = codec::decode::<T>(bytes) else {
        return;
    };
    let Ok(encoded) = codec::encode(&decoded) else {
        return;
    };
    assert_eq!(encoded[0], codec::VERSION);
    let again: T = codec::decode(&encoded).expect("own encoding decodes");
    let first = serde_json::to_value(&decoded).expect("to a JSON tree");
    let second = serde_json::to_value(&again).expect("to a JSON tree");
    assert_eq!(first, second);
}

/// A composite key read part by part as the first bytes say; the parts read
/// make the same bytes again when written with `Key`.
fn key(mut c: Cursor) {
    let plan: [u8; 6] = c.array();
    let bytes = c.rest();
    let mut reader = KeyReader::new(bytes);
    let mut rebuilt = Key::new();
    for step in plan {
        let ok = match step % 7 {
            0 => reader.u8().map(|n| rebuilt = rebuilt.clone().u8(n)),
            1 => reader.u32().map(|n| rebuilt = rebuilt.clone().u32(n)),
            2 => reader.u64().map(|n| rebuilt = rebuilt.clone().u64(n)),
            3 => reader.u128().map(|n| rebuilt = rebuilt.clone().u128(n)),
            4 => reader
                .fixed::<16>()
                .map(|n| rebuilt = rebuilt.clone().fixed(&n)),
            5 => reader.bytes().map(|b| rebuilt = rebuilt.clone().bytes(b)),
            _ => reader.str().map(|s| rebuilt = rebuilt.clone().str(s)),
        };
        if ok.is_err() {
            return;
        }
    }
    let done = reader.clone().finish().is_ok();
    let rebuilt: Vec<u8> = rebuilt.finish();
    assert!(bytes.starts_with(&rebuilt));
    assert_eq!(done, rebuilt.len() == bytes.len());
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        async fn echo(a: ChunkAddress) -> String {
            format!(
                "{}/{}/{}",
                shared::crypto::b64::encode(&a.node),
                a.version,
                a.index
            )
        }
        Router::new().route(
            &format!("{CHUNK_ROUTE}/{{node}}/{{version}}/{{index}}"),
            get(echo),
        )
    })
}

/// Any path under the chunk route: an address comes out only for digits
/// and a 16-byte id, and its canonical form names the same address.
fn chunk_path(mut c: Cursor) {
    let tail = c.rest();
    let mut uri = format!("{CHUNK_ROUTE}/").into_bytes();
    uri.extend_from_slice(tail);
    let Some((true, address)) = fetch(&uri) else {
        return;
    };
    let canonical = format!("{CHUNK_ROUTE}/{}", String::from_utf8_lossy(&address));
    assert_eq!(fetch(canonical.as_bytes()), Some((true, address)));
}

fn fetch(uri: &[u8]) -> Option<(bool, axum::body::Bytes)> {
    let request = Request::get(uri).body(Body::empty()).ok()?;
    Some(runtime().block_on(async {
        let response = router().clone().oneshot(request).await.expect("infallible");
        let ok = response.status().is_success();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("small body");
        (ok, body)
    }))
}
