//! Overload shedding: how much work the server takes on at once, per class of
//! request, so a flood of one kind (thousands of chunk reads) neither exhausts
//! memory nor starves the others (sign-in keeps working).
//!
//! Each class has a number of requests it serves at once. A request that finds
//! its class full waits, at most [`ClassLimits::queue_wait`] and with at most
//! as many others waiting as may run; past that it is answered at once with `503`,
//! `Retry-After` and a JSON body, which the app treats as "try again shortly". A
//! request keeps its place until its response body has been sent, so a chunk in
//! memory is always counted. Only `GET /api/health` is never held back: monitors
//! must see a busy server as alive.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::{Request, State},
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use shared::api::{records::CHUNK_ROUTE, ApiError, ErrorCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::api_error_response;

/// What a refused request reads.
pub const BUSY: &str = "The medvault server is busy right now. Wait a moment and try again; the app retries by itself.";

/// Seconds a refused client is asked to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The kinds of request that are limited separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// The unauthenticated OPAQUE exchanges: sign-in, sign-up, recovery.
    SignIn,
    /// Every other API call (record changes, sharing, audit pages).
    Records,
    /// Reading one stored chunk.
    ChunkGet,
    /// Storing one chunk (its body is read into memory, up to 4 MiB).
    ChunkPut,
    /// The app's own files.
    Static,
}

/// Server functions that run an OPAQUE exchange for someone not signed in.
const SIGN_IN_PREFIXES: [&str; 3] = [
    "/api/account/login/",
    "/api/account/signup/",
    "/api/account/recovery/",
];

impl RouteClass {
    /// The class of a request, or `None` for the health check.
    pub fn of(method: &Method, path: &str) -> Option<RouteClass> {
        if path == "/api/health" {
            return None;
        }
        let chunk = path
            .strip_prefix(CHUNK_ROUTE)
            .is_some_and(|rest| rest.starts_with('/'));
        Some(if chunk && method == Method::PUT {
            RouteClass::ChunkPut
        } else if chunk {
            RouteClass::ChunkGet
        } else if SIGN_IN_PREFIXES.iter().any(|p| path.starts_with(p)) {
            RouteClass::SignIn
        } else if path == "/api" || path.starts_with("/api/") {
            RouteClass::Records
        } else {
            RouteClass::Static
        })
    }
}

/// How many requests of each class run at once, and how long one may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassLimits {
    /// OPAQUE exchanges at once.
    pub sign_in: usize,
    /// Other API calls at once.
    pub records: usize,
    /// Chunk reads at once (each holds its chunk, at most 4 MiB).
    pub chunk_get: usize,
    /// Chunk uploads at once (each holds its body, at most 4 MiB).
    pub chunk_put: usize,
    /// Files of the app at once.
    pub static_files: usize,
    /// The longest a request waits for its class before it is refused.
    pub queue_wait: Duration,
}

impl ClassLimits {
    /// Limits sized from the number of cores: enough in flight to keep every core
    /// busy through disk waits, and chunk classes bounded so their bodies stay
    /// within about 128 MiB per core of the typical 1 MiB chunk (the 4 MiB worst
    /// case 512 MiB per core; the app sends 1 MiB).
    pub fn for_cores(cores: usize) -> ClassLimits {
        let cores = cores.clamp(1, 64);
        ClassLimits {
            sign_in: 8 * cores,
            records: 32 * cores,
            chunk_get: 32 * cores,
            chunk_put: 16 * cores,
            static_files: 32 * cores,
            queue_wait: Duration::from_secs(2),
        }
    }

    /// Limits for this machine.
    pub fn for_this_machine() -> ClassLimits {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::for_cores(cores)
    }

    fn of(&self, class: RouteClass) -> usize {
        match class {
            RouteClass::SignIn => self.sign_in,
            RouteClass::Records => self.records,
            RouteClass::ChunkGet => self.chunk_get,
            RouteClass::ChunkPut => self.chunk_put,
            RouteClass::Static => self.static_files,
        }
        .max(1)
    }
}

impl Default for ClassLimits {
    fn default() -> Self {
        Self::for_this_machine()
    }
}

struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// The gates of every class; cheap to clone.
#[derive(Clone)]
pub struct Gates {
    gates: Arc<[Gate; 5]>,
    queue_wait: Duration,
}

impl Gates {
    /// Gates with `limits`.
    pub fn new(limits: ClassLimits) -> Gates {
        let gate = |class| {
            let n = limits.of(class);
            Gate {
                permits: Arc::new(Semaphore::new(n)),
                waiting: AtomicUsize::new(0),
                max_waiting: n,
            }
        };
        Gates {
            gates: Arc::new([
                gate(RouteClass::SignIn),
                gate(RouteClass::Records),
                gate(RouteClass::ChunkGet),
                gate(RouteClass::ChunkPut),
                gate(RouteClass::Static),
            ]),
            queue_wait: limits.queue_wait,
        }
    }

    fn gate(&self, class: RouteClass) -> &Gate {
        let i = match class {
            RouteClass::SignIn => 0,
            RouteClass::Records => 1,
            RouteClass::ChunkGet => 2,
            RouteClass::ChunkPut => 3,
            RouteClass::Static => 4,
        };
        &self.gates[i]
    }

    /// A place in `class`, waiting for one if allowed; `None` means refuse.
    async fn enter(&self, class: RouteClass) -> Option<OwnedSemaphorePermit> {
        let gate = self.gate(class);
        match gate.permits.clone().try_acquire_owned() {
            Ok(permit) => return Some(permit),
            Err(TryAcquireError::Closed) => return None,
            Err(TryAcquireError::NoPermits) => {}
        }
        let _waiting = Waiting::join(gate)?;
        tokio::time::timeout(self.queue_wait, gate.permits.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

/// One request counted as waiting for as long as it waits (also when the
/// client goes away meanwhile).
struct Waiting<'a>(&'a Gate);

impl<'a> Waiting<'a> {
    fn join(gate: &'a Gate) -> Option<Waiting<'a>> {
        let before = gate.waiting.fetch_add(1, Ordering::AcqRel);
        if before >= gate.max_waiting {
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Waiting(gate))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The middleware: admits the request to its class or answers 503.
pub async fn shed(State(gates): State<Gates>, req: Request, next: Next) -> Response {
    let Some(class) = RouteClass::of(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    crate::memory::count_request();
    let Some(permit) = gates.enter(class).await else {
        return busy();
    };
    let res = next.run(req).await;
    let (parts, body) = res.into_parts();
    Response::from_parts(
        parts,
        Body::new(Held {
            body,
            _permit: permit,
        }),
    )
}

/// The answer to a request its class has no room for.
pub fn busy() -> Response {
    let mut res = api_error_response(&ApiError::new(ErrorCode::Unavailable, BUSY));
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    res
}

/// A response body that keeps its request's place until it is sent or dropped.
struct Held {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl HttpBody for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fall_into_their_classes() {
        let get = Method::GET;
        let put = Method::PUT;
        let post = Method::POST;
        assert_eq!(RouteClass::of(&get, "/api/health"), None);
        assert_eq!(
            RouteClass::of(&get, &format!("{CHUNK_ROUTE}/a/1/0")),
            Some(RouteClass::ChunkGet)
        );
        assert_eq!(
            RouteClass::of(&put, &format!("{CHUNK_ROUTE}/a/1/0")),
            Some(RouteClass::ChunkPut)
        );
        assert_eq!(
            RouteClass::of(&post, "/api/account/login/start"),
            Some(RouteClass::SignIn)
        );
        assert_eq!(
            RouteClass::of(&post, "/api/account/signup/finish"),
            Some(RouteClass::SignIn)
        );
        assert_eq!(
            RouteClass::of(&post, "/api/records/tree"),
            Some(RouteClass::Records)
        );
        // A path that only starts like the chunk route is an ordinary call.
        assert_eq!(
            RouteClass::of(&post, &format!("{CHUNK_ROUTE}s")),
            Some(RouteClass::Records)
        );
        assert_eq!(RouteClass::of(&get, "/"), Some(RouteClass::Static));
        assert_eq!(
            RouteClass::of(&get, "/app-1234_bg.wasm"),
            Some(RouteClass::Static)
        );
    }

    #[test]
    fn limits_grow_with_the_cores_and_are_never_zero() {
        let one = ClassLimits::for_cores(0);
        assert_eq!(one, ClassLimits::for_cores(1));
        let two = ClassLimits::for_cores(2);
        assert_eq!(two.chunk_get, 2 * one.chunk_get);
        let zero = ClassLimits { sign_in: 0, ..one };
        assert_eq!(zero.of(RouteClass::SignIn), 1);
    }

    #[tokio::test]
    async fn a_full_class_lets_as_many_wait_as_run_and_refuses_the_rest() {
        let gates = Gates::new(ClassLimits {
            chunk_get: 1,
            queue_wait: Duration::from_secs(30),
            ..ClassLimits::for_cores(1)
        });
        let first = gates.enter(RouteClass::ChunkGet).await;
        assert!(first.is_some());
        // One may wait: it gets in when the first leaves.
        let waiter = {
            let gates = gates.clone();
            tokio::spawn(async move { gates.enter(RouteClass::ChunkGet).await.is_some() })
        };
        while gates
            .gate(RouteClass::ChunkGet)
            .waiting
            .load(Ordering::Acquire)
            == 0
        {
            tokio::task::yield_now().await;
        }
        // A third finds the queue full: refused at once.
        assert!(gates.enter(RouteClass::ChunkGet).await.is_none());
        // Another class is not affected.
        assert!(gates.enter(RouteClass::SignIn).await.is_some());
        drop(first);
        assert!(waiter.await.unwrap_or(false));
        assert_eq!(
            gates
                .gate(RouteClass::ChunkGet)
                .waiting
                .load(Ordering::Acquire),
            0
        );
    }

    #[tokio::test]
    async fn a_wait_ends_after_the_queue_wait() {
        let gates = Gates::new(ClassLimits {
            records: 1,
            queue_wait: Duration::from_millis(50),
            ..ClassLimits::for_cores(1)
        });
        let _held = gates.enter(RouteClass::Records).await;
        assert!(gates.enter(RouteClass::Records).await.is_none());
        assert_eq!(
            gates
                .gate(RouteClass::Records)
                .waiting
                .load(Ordering::Acquire),
            0
        );
    }
}
