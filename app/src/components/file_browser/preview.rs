//! Showing a verified, decrypted file in the page: which files can be shown,
//! and how.

/// The largest text file the preview shows (bigger ones are downloaded).
pub const MAX_TEXT_PREVIEW: u64 = 2 * 1024 * 1024;

/// How a file can be shown in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewKind {
    /// In an `<img>`.
    Image,
    /// In the browser's PDF viewer.
    Pdf,
    /// As text in a `<pre>`.
    Text,
}

/// Whether (and how) a file of this MIME type can be previewed.
pub fn preview_kind(mime: &str) -> Option<PreviewKind> {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp" => {
            Some(PreviewKind::Image)
        }
        "application/pdf" => Some(PreviewKind::Pdf),
        "application/json" | "text/csv" => Some(PreviewKind::Text),
        m if m.starts_with("text/") => Some(PreviewKind::Text),
        _ => None,
    }
}
