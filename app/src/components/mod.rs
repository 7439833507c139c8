//! Reusable pieces, each named for what the user sees.

pub mod dialog;
pub mod form;
pub mod layout;
pub mod safety_number;
pub mod server_status;
