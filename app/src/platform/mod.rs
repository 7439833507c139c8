//! What the app needs from the browser itself, with no view code and no
//! protocol: storage, focus, dates, the clock, and (moving here) the raw HTTP
//! transport and blobs. Tasks and pages build on it; it imports neither.

pub mod browser;
pub mod clock;
