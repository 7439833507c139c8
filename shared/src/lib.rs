//! Protocol types and the API surface shared by the browser app and the server.
//!
//! Each API call is declared once here as a Leptos server function, so client and
//! server cannot drift apart. This crate does no I/O of its own: on the server the
//! function bodies hand the call to the [`api::Backend`] trait, which the `server`
//! crate implements.

pub mod account;
pub mod api;
pub mod audit;
pub mod client;
pub mod csv;
pub mod format;
pub mod model;
pub mod records;
pub mod sharing;
pub mod vitals;

/// The crypto core (the `medvault-crypto` crate), under the path the app, the
/// server and the API have always used.
pub mod crypto {
    pub use medvault_crypto::*;

    // Compatibility re-exports for the app and server until their imports move
    // to shared::model (issue 18). The lead removes them with one sed pass.
    /// Compatibility: the primitives of `medvault_crypto::sign` plus the signed
    /// domain types, which now live in `shared::model`.
    pub mod sign {
        pub use crate::model::{
            DoctorCertificate, FileManifest, Grant, KeyEntry, Permission, Role,
        };
        pub use medvault_crypto::sign::*;
    }
    pub use crate::model::Id;
}

/// The version of this build, reported by the health endpoint and shown in the app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
