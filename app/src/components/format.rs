//! Byte counts and speeds on screen, in the one style the server's messages
//! use too ([`shared::format`]): "2.4 MB", "12.3 MB/s".

pub use shared::format::{format_bytes, format_speed};
