//! The old paths of the transfer pipeline, kept only while pages that other
//! branches are moving still import them. New code imports
//! [`crate::tasks::transfer`], [`crate::tasks::upload`],
//! [`crate::tasks::download`], [`crate::tasks::progress`] and
//! [`crate::platform`] directly; this file goes once nothing uses it.

pub use crate::{
    components::{
        file_browser::preview::{preview_kind, PreviewKind, MAX_TEXT_PREVIEW},
        format::{format_bytes, format_speed},
    },
    platform::clock::now_ms,
    tasks::{download::*, progress::*, transfer::*, upload::*},
};

/// [`crate::platform::blob::save_blob`] with the transfer's error type.
pub fn save_blob(blob: &web_sys::Blob, name: &str) -> Result<(), TransferError> {
    crate::platform::blob::save_blob(blob, name).map_err(TransferError::Browser)
}
