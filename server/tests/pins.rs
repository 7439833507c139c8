//! Key pins (`GET`/`PUT /api/account/pins`): each user's one sealed, signed
//! object. A save must start from the stored copy (two tabs never overwrite
//! each other), stay under the size limit, be the caller's own next object;
//! nobody reads or replaces another user's pins; bad input changes nothing.
//! What the server answers is then checked by the browser's own code
//! (`shared::pins::open_pins`), here too, against a server that rolls back.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{header, Request, StatusCode};
use common::{Client, Server};
use serde_json::json;
use shared::{
    api::{account::SessionInfo, ApiError, ErrorCode, CSRF_HEADER},
    client::{key_entry, verify_directory_entry},
    crypto::{keyring::Keyring, sign::Signed},
    model::{KeyEntry, Role},
    pins::{open_pins, seal_pins, PinEnvelope, PinList, PinsError, MAX_SEALED_PINS},
};

const PINS: &str = "/api/account/pins";

struct User {
    client: Client,
    info: SessionInfo,
    keyring: Keyring,
    entry: KeyEntry,
}

async fn user(s: &Server, name: &str) -> User {
    let client = s.client();
    let (info, account) = client.signup(name, None, s.now()).await.unwrap();
    let served: shared::api::directory::DirectoryEntry = client
        .post("/api/directory/lookup", &json!({ "username": name }))
        .await
        .unwrap();
    User {
        client,
        info,
        keyring: account.keyring,
        entry: served.entry.value,
    }
}

async fn put(c: &Client, body: serde_json::Value) -> (StatusCode, Vec<u8>) {
    let req = Request::put(PINS)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(CSRF_HEADER, "1");
    c.send_request(req, serde_json::to_vec(&body).unwrap())
        .await
}

async fn save(u: &User, expected: u64, envelope: &Signed<PinEnvelope>) -> (StatusCode, ApiError) {
    let (status, body) = put(
        &u.client,
        json!({ "request": { "expected_counter": expected, "envelope": envelope } }),
    )
    .await;
    let error = serde_json::from_slice(&body).unwrap_or(ApiError::from_code(ErrorCode::Internal));
    (status, error)
}

async fn stored(u: &User) -> Option<Signed<PinEnvelope>> {
    u.client.get(PINS).await.unwrap()
}

/// A pin list naming one made-up doctor, sealed as `u`'s object `counter`.
fn object(u: &User, counter: u64, doctor: &str) -> Signed<PinEnvelope> {
    let keys = Keyring::generate().unwrap();
    let served = shared::api::directory::DirectoryEntry {
        entry: key_entry(&keys, [7; 16], doctor, Role::Doctor, 0),
        certificate: None,
        certifier: None,
        certifier_certificate: None,
        disabled: false,
    };
    let mut list = PinList::default();
    list.pin(&verify_directory_entry(doctor, &served, None).unwrap(), 1);
    seal_pins(&u.keyring, &u.info.user_id, counter, &list).unwrap()
}

#[tokio::test]
async fn saves_chain_by_counter_and_a_stale_save_is_a_conflict() {
    let s = Server::new();
    let u = user(&s, "maria").await;
    assert_eq!(stored(&u).await, None);

    let first = object(&u, 1, "drwho");
    assert_eq!(save(&u, 0, &first).await.0, StatusCode::OK);
    assert_eq!(stored(&u).await, Some(first.clone()));

    // A second tab that started before the first save: refused, nothing changed.
    let other_tab = object(&u, 1, "drno");
    let (status, e) = save(&u, 0, &other_tab).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(e.message.contains("another tab"), "{}", e.message);
    assert_eq!(stored(&u).await, Some(first.clone()));

    // It reads again and saves on top: fine.
    let second = object(&u, 2, "drno");
    assert_eq!(save(&u, 1, &second).await.0, StatusCode::OK);
    assert_eq!(stored(&u).await, Some(second.clone()));
    // The browser opens what it stored, and refuses the first copy served again.
    let list = open_pins(&u.keyring, &u.entry, &second, Some(1)).unwrap();
    assert!(list.get("drno").is_some());
    assert_eq!(
        open_pins(&u.keyring, &u.entry, &first, Some(2)),
        Err(PinsError::Rollback { seen: 2, served: 1 })
    );

    // A stale expectation later on: conflict too.
    let (status, _) = save(&u, 1, &object(&u, 2, "dr.x")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(stored(&u).await, Some(second));
}

#[tokio::test]
async fn bad_objects_are_refused_and_change_nothing() {
    let s = Server::new();
    let u = user(&s, "maria").await;
    let first = object(&u, 1, "drwho");
    assert_eq!(save(&u, 0, &first).await.0, StatusCode::OK);

    // A counter that is not the next one.
    let (status, e) = save(&u, 1, &object(&u, 5, "dr.a")).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    // Signed by another key.
    let stranger = Keyring::generate().unwrap();
    let forged = seal_pins(&stranger, &u.info.user_id, 2, &PinList::default()).unwrap();
    assert_eq!(save(&u, 1, &forged).await.0, StatusCode::BAD_REQUEST);
    // Altered after signing.
    let mut altered = object(&u, 2, "dr.b");
    altered.value.sealed[3] ^= 1;
    assert_eq!(save(&u, 1, &altered).await.0, StatusCode::BAD_REQUEST);
    // Over the size limit (signed, so only the size is wrong).
    let big = shared::crypto::sign::sign(
        u.keyring.identity(),
        PinEnvelope {
            user_id: u.info.user_id,
            counter: 2,
            sealed: vec![0; MAX_SEALED_PINS + 1],
        },
    );
    let (status, e) = save(&u, 1, &big).await;
    assert_eq!(
        (status, e.code),
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
    );
    // Not JSON, or not the shape.
    let (status, body) = put(&u.client, json!({ "request": { "envelope": 3 } })).await;
    assert!(status.is_client_error(), "{status}");
    assert!(serde_json::from_slice::<ApiError>(&body).is_ok());
    let (status, _) = u
        .client
        .send_request(
            Request::put(PINS)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header(CSRF_HEADER, "1"),
            b"{not json".to_vec(),
        )
        .await;
    assert!(status.is_client_error(), "{status}");

    assert_eq!(stored(&u).await, Some(first));
}

#[tokio::test]
async fn another_users_pins_are_out_of_reach() {
    let s = Server::new();
    let maria = user(&s, "maria").await;
    let olga = user(&s, "olga").await;
    let marias = object(&maria, 1, "drwho");
    assert_eq!(save(&maria, 0, &marias).await.0, StatusCode::OK);

    // Olga reads only her own (none).
    assert_eq!(stored(&olga).await, None);
    // She cannot store Maria's object as hers or over Maria's.
    assert_eq!(save(&olga, 0, &marias).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        save(&olga, 1, &object(&maria, 2, "dr.x")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(stored(&olga).await, None);
    assert_eq!(stored(&maria).await, Some(marias.clone()));
    // And if a server served Maria's object to Olga, her browser refuses it.
    assert_eq!(
        open_pins(&olga.keyring, &olga.entry, &marias, None),
        Err(PinsError::Forged)
    );

    // Without a session: nothing.
    let anonymous = s.client();
    let failure = anonymous
        .get::<Option<Signed<PinEnvelope>>>(PINS)
        .await
        .unwrap_err();
    assert_eq!(failure.0, StatusCode::UNAUTHORIZED);
}
