//! The app's one way to the server: the server functions from `shared`, and the
//! sentences the user reads when a call fails.

use shared::api::{ApiError, ErrorCode};

pub use shared::api::system::{health, HealthReport};

/// What to tell a person when a call failed: what happened and what to do next.
pub fn explain(error: &ApiError) -> String {
    match error.code {
        ErrorCode::Unavailable => {
            "We could not reach the medvault server. Check your internet connection, then try again."
                .to_owned()
        }
        ErrorCode::Internal => {
            "The server ran into a problem. Try again in a minute; if it keeps happening, contact your administrator."
                .to_owned()
        }
        ErrorCode::TooManyRequests => error.message.clone(),
        _ => error.message.clone(),
    }
}
