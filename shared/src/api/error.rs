//! The one error type that crosses the wire: `{"code": "...", "message": "..."}`.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// A short, stable, machine-readable reason. The app picks its sentence for the
/// user from this; the message is a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: bad JSON, a wrong size, a bad id.
    BadRequest,
    /// No valid session, or the credentials were wrong.
    Unauthorized,
    /// The request was refused whoever sent it: a state-changing request without
    /// the custom header or from a foreign origin (cross-site request forgery).
    Forbidden,
    /// The thing does not exist, or the caller may not know that it does.
    NotFound,
    /// The path exists but not with this HTTP method.
    MethodNotAllowed,
    /// The request conflicts with the current state (already taken, already done).
    Conflict,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// The request body is not in a format this route accepts.
    UnsupportedMediaType,
    /// The request (headers and body) did not arrive within the server's time
    /// limit: a slow or stalled connection. Trying again may work.
    RequestTimeout,
    /// Too many attempts; the message says when to try again.
    TooManyRequests,
    /// The server failed; the details are in its log, never in the response.
    Internal,
    /// The server could not be reached or is shutting down (set by the client too).
    Unavailable,
    /// The server's disk is full: nothing was stored. Trying again works only
    /// once its operator has made room.
    InsufficientStorage,
}

impl ErrorCode {
    /// The HTTP status for this code: the one place where codes meet statuses.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
            ErrorCode::InsufficientStorage => 507,
        }
    }

    /// The code for an HTTP status that some layer produced without an `ApiError`
    /// (the router's 404 and 405, a body limit's 413, a proxy's 502).
    pub fn from_http_status(status: u16) -> Self {
        match status {
            400 | 422 => ErrorCode::BadRequest,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            408 => ErrorCode::RequestTimeout,
            429 => ErrorCode::TooManyRequests,
            502..=504 => ErrorCode::Unavailable,
            507 => ErrorCode::InsufficientStorage,
            s if (400..500).contains(&s) => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        }
    }

    /// A plain sentence for the code, used where nothing more specific was said.
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "The request was malformed.",
            ErrorCode::Unauthorized => "You need to sign in to do this.",
            ErrorCode::Forbidden => {
                "This request was refused because it did not come from the medvault app. Reload the page and try again."
            }
            ErrorCode::NotFound => "Nothing was found at this address.",
            ErrorCode::MethodNotAllowed => "This address does not accept that method.",
            ErrorCode::Conflict => "This conflicts with the current state.",
            ErrorCode::PayloadTooLarge => "The request is larger than the server accepts.",
            ErrorCode::UnsupportedMediaType => {
                "The request body is not in a format this address accepts."
            }
            ErrorCode::RequestTimeout => {
                "The request took too long to arrive. Check your connection and try again."
            }
            ErrorCode::TooManyRequests => "Too many attempts. Wait a moment and try again.",
            ErrorCode::Internal => "The server ran into a problem. Try again in a moment.",
            ErrorCode::Unavailable => {
                "The medvault server could not be reached. Check your connection and try again."
            }
            ErrorCode::InsufficientStorage => {
                "The medvault server has run out of storage space, so nothing was saved. Try again later, and tell your administrator if it keeps happening."
            }
        }
    }
}

/// The error of every API call. The message is for people and never carries a
/// secret, a key, a token or record content; details go to the server's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// Stable reason, see [`ErrorCode`].
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// For `too_many_requests`: seconds to wait before trying again (also sent
    /// as the `Retry-After` header). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a specific message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `too_many_requests` with a message and how many seconds to wait (at least 1).
    pub fn too_many(message: impl Into<String>, wait_secs: u64) -> Self {
        ApiError {
            retry_after: Some(wait_secs.max(1)),
            ..ApiError::new(ErrorCode::TooManyRequests, message)
        }
    }

    /// An error with the code's default message.
    pub fn from_code(code: ErrorCode) -> Self {
        ApiError::new(code, code.default_message())
    }

    /// A malformed request, with what was wrong with it.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    /// Missing, or not the caller's to know about: both answer the same.
    pub fn not_found() -> Self {
        ApiError::from_code(ErrorCode::NotFound)
    }

    /// A server fault, with the code's generic message so nothing internal leaks.
    /// Takes no detail: the server logs the cause through its `AppError` instead.
    pub fn internal() -> Self {
        ApiError::from_code(ErrorCode::Internal)
    }

    /// The HTTP status this error is sent with.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server: the arguments could not be decoded.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                ApiError::bad_request("The request body is not valid JSON for this call.")
            }
            ServerFnErrorErr::UnsupportedRequestMethod(_) => {
                ApiError::from_code(ErrorCode::MethodNotAllowed)
            }
            // On the client: the server could not be reached at all.
            ServerFnErrorErr::Request(_) => ApiError::from_code(ErrorCode::Unavailable),
            // Decoding failed. On the server that was the request body (Leptos
            // reports a POST body it cannot parse this way); on the client it was
            // the answer, which usually means app and server are of different
            // versions.
            ServerFnErrorErr::Deserialization(_) => {
                if cfg!(feature = "ssr") {
                    ApiError::bad_request("The request body is not valid JSON for this call.")
                } else {
                    ApiError::new(
                        ErrorCode::Internal,
                        "The server's answer could not be read. Reload the page to get the current app.",
                    )
                }
            }
            ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Serialization(_)
            | ServerFnErrorErr::Response(_) => ApiError::from_code(ErrorCode::Internal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_is_code_and_message() {
        let e = ApiError::bad_request("no");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "bad_request", "message": "no"})
        );
    }

    #[test]
    fn too_many_carries_the_wait_and_others_do_not() {
        let e = ApiError::too_many("later", 0);
        assert_eq!(e.http_status(), 429);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "too_many_requests", "message": "later", "retry_after": 1})
        );
        let back: ApiError =
            serde_json::from_str(r#"{"code":"bad_request","message":"no"}"#).unwrap();
        assert_eq!(back.retry_after, None);
    }

    #[test]
    fn every_code_round_trips_through_its_status() {
        use ErrorCode::*;
        for code in [
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            RequestTimeout,
            TooManyRequests,
            Internal,
            Unavailable,
        ] {
            assert_eq!(ErrorCode::from_http_status(code.http_status()), code);
            assert!(code.http_status() >= 400);
        }
    }

    #[test]
    fn internal_errors_carry_only_the_generic_message() {
        let e = ApiError::internal();
        assert_eq!(e.message, ErrorCode::Internal.default_message());
        assert_eq!(e.http_status(), 500);
    }

    #[test]
    fn undecodable_arguments_are_a_client_error() {
        let e = ApiError::from_server_fn_error(ServerFnErrorErr::Args("x".into()));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(!e.message.contains('x'));
    }
}
