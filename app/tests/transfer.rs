//! `tasks::transfer` and the transport under it (`platform::http`): the
//! digest, the errors and their sentences, cancelling, and the retries of a
//! request against a stand-in server (a 5xx or a 408 is tried again, a 4xx
//! stops with the server's reason, a cancel sends nothing).
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;

use app::{
    platform::http::{call, request, HttpError},
    session::Session,
    tasks::transfer::{sha256, Cancel, TransferError, TAMPERED},
};
use js_sys::Uint8Array;
use shared::{
    api::{ApiError, ErrorCode},
    crypto::sign::part_hash,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod standin;
use standin::{error, serve};

#[wasm_bindgen_test]
async fn webcrypto_sha256_is_the_manifest_hash() {
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let js = Uint8Array::from(&bytes[..]);
    assert_eq!(sha256(&js).await.unwrap(), part_hash(&bytes));
    assert_eq!(
        sha256(&Uint8Array::new_with_length(0)).await.unwrap(),
        part_hash(&[])
    );
}

#[wasm_bindgen_test]
fn the_transport_s_failures_become_transfer_errors() {
    assert_eq!(
        TransferError::from(HttpError::Cancelled),
        TransferError::Cancelled
    );
    assert_eq!(
        TransferError::from(HttpError::Unreachable),
        TransferError::Unreachable
    );
    let refused = ApiError::from_code(ErrorCode::PayloadTooLarge);
    assert_eq!(
        TransferError::from(HttpError::Refused(refused.clone())),
        TransferError::Api(refused)
    );
}

#[wasm_bindgen_test]
fn every_error_has_a_sentence() {
    let session = Session::new();
    assert_eq!(
        TransferError::Cancelled.message(&session),
        "Cancelled. Nothing was kept."
    );
    assert_eq!(
        TransferError::Refused("Too big.".into()).message(&session),
        "Too big."
    );
    assert!(TransferError::Tampered
        .message(&session)
        .starts_with(TAMPERED));
    assert!(TransferError::Unreachable
        .message(&session)
        .contains("connection"));
}

#[wasm_bindgen_test]
fn a_cancel_is_seen_by_every_step() {
    let cancel = Cancel::new();
    assert!(!cancel.is_cancelled());
    assert_eq!(cancel.check(), Ok(()));
    let copy = cancel.clone();
    copy.cancel();
    assert!(cancel.is_cancelled());
    assert_eq!(cancel.check(), Err(TransferError::Cancelled));
}

#[wasm_bindgen_test]
async fn a_cancelled_request_sends_nothing() {
    let calls = serve(|_| (200, b"never".to_vec()));
    let cancel = Cancel::new();
    cancel.cancel();
    assert_eq!(
        request("GET", "/api/records/chunk/x/1/0", None, &cancel).await,
        Err(HttpError::Cancelled)
    );
    assert!(calls.borrow().is_empty());
}

#[wasm_bindgen_test]
async fn a_failing_server_is_tried_again_and_a_refusal_stops_at_once() {
    // A 503 and a 408, then the answer.
    let tries = std::rc::Rc::new(Cell::new(0));
    let seen = tries.clone();
    let calls = serve(move |_| {
        seen.set(seen.get() + 1);
        match seen.get() {
            1 => (503, Vec::new()),
            2 => (408, Vec::new()),
            _ => (200, vec![1, 2, 3]),
        }
    });
    let body = Uint8Array::from(&[9u8, 9][..]);
    let answer = request("PUT", "/api/chunk", Some(&body), &Cancel::new())
        .await
        .unwrap();
    assert_eq!(Uint8Array::new(&answer).to_vec(), vec![1, 2, 3]);
    {
        let calls = calls.borrow();
        assert_eq!(calls.len(), 3);
        assert!(calls
            .iter()
            .all(|c| c.method == "PUT" && c.body == vec![9, 9]));
    }

    // A 4xx is the server's answer: no second try, and its reason kept.
    let calls = serve(|_| error(404, "not_found", "No such chunk."));
    let refused = request("GET", "/api/chunk", None, &Cancel::new()).await;
    match refused {
        Err(HttpError::Refused(e)) => {
            assert_eq!(e.code, ErrorCode::NotFound);
            assert_eq!(e.message, "No such chunk.");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.borrow().len(), 1);

    // A 4xx whose body is not the server's error still stops, by its status.
    serve(|_| (413, b"<html>too large</html>".to_vec()));
    match request("PUT", "/api/chunk", Some(&body), &Cancel::new()).await {
        Err(HttpError::Refused(e)) => assert_eq!(e.code, ErrorCode::PayloadTooLarge),
        other => panic!("{other:?}"),
    }
}

#[wasm_bindgen_test]
async fn a_server_function_is_retried_only_when_the_server_failed() {
    let tries = Cell::new(0);
    let value = call(&Cancel::new(), || {
        tries.set(tries.get() + 1);
        let attempt = tries.get();
        async move {
            if attempt < 3 {
                Err(ApiError::from_code(ErrorCode::Unavailable))
            } else {
                Ok(attempt)
            }
        }
    })
    .await;
    assert_eq!(value, Ok(3));

    let tries = Cell::new(0);
    let refused: Result<(), HttpError> = call(&Cancel::new(), || {
        tries.set(tries.get() + 1);
        async { Err(ApiError::from_code(ErrorCode::Conflict)) }
    })
    .await;
    assert!(matches!(refused, Err(HttpError::Refused(e)) if e.code == ErrorCode::Conflict));
    assert_eq!(tries.get(), 1);

    let cancel = Cancel::new();
    cancel.cancel();
    let never: Result<(), HttpError> = call(&cancel, || async { Ok(()) }).await;
    assert_eq!(never, Err(HttpError::Cancelled));
}
