//! A patient's record in plaintext, and the steps that encrypt it: node metadata,
//! vital signs, size padding and the key tree (docs/PROTOCOL.md, section 4.3).
//!
//! The server holds only what these functions output. Everything here is pure, so
//! the browser app, the server's tests and the benchmarks run the same code.
//!
//! # Key tree (protocol v1)
//!
//! - The root folder's node key is wrapped to the patient's X25519 key with
//!   [`crate::crypto::hpke::wrap_node_key`] (recipient = the patient's user id,
//!   node = root id).
//! - Every other node key is a sealed box under its parent's node key with
//!   associated data `bind(NODE_KEY_WRAP, [node_id, parent_id])`
//!   ([`wrap_child_key`]); moving a node re-wraps its key under the new parent.
//! - Node metadata ([`NodeMetadata`], JSON) is padded ([`pad_metadata`]) and sealed
//!   under the node key with associated data `bind(NODE_METADATA, [node_id])`.
//! - Each file version has a fresh content key, sealed under the node key with
//!   associated data `bind(CONTENT_KEY_WRAP, [node_id, u32be(version)])`. The
//!   content is the [`crate::crypto::stream`] of the *padded* file: the file's
//!   bytes, then `0x80`, then zero bytes up to [`padded_len`] (ISO/IEC 7816-4
//!   padding to a Padmé length), so the server learns only a coarse size.
//!
//! The module is split by concern: [`model`] (the plaintext types), [`padding`]
//! (size hiding), [`keys`] (wrapping and sealing) and [`tree`] (the opened
//! record). Everything is re-exported here, so `shared::records::X` is the path
//! to use.

pub mod bulk;
pub mod change;
pub mod details;
pub mod health;
pub mod keys;
pub mod model;
pub mod padding;
pub mod profile;
pub mod state;
pub mod tree;
pub mod verify;

pub use details::*;
pub use health::*;
pub use keys::*;
pub use model::*;
pub use padding::*;
pub use state::*;
pub use tree::*;

#[cfg(test)]
mod tests;
