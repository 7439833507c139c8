//! One file browser for the patient's record and a doctor's shared folder:
//! rows, folders, uploads, previews and progress bars, with the actions each
//! viewer may take chosen by their capabilities.

pub mod preview;
