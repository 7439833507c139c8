//! Reusable pieces, each named for what the user sees.

pub mod layout;
pub mod server_status;
