//! One file browser for the patient's record and a doctor's shared folder:
//! rows, folders, uploads, previews and progress bars, with the actions each
//! viewer may take chosen by their capabilities. The work behind the buttons
//! is in [`crate::tasks`]; these only render and collect input.

pub mod file_row;
pub mod folder;
pub mod items;
pub mod preview;
pub mod progress_line;
pub mod upload;
