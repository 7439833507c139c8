//! Showing a verified, decrypted file in the page: which files can be shown,
//! and how.

use leptos::prelude::*;

use crate::platform::blob::{blob_text, object_url, revoke_url};

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

/// A decrypted file shown in the page. `url` is an object URL, revoked when
/// the preview closes ([`Preview::close`]).
#[derive(Clone)]
pub struct Preview {
    /// The file's name, the dialog's title.
    pub name: String,
    /// Image, PDF or text.
    pub kind: PreviewKind,
    /// The object URL of an image or PDF.
    pub url: Option<String>,
    /// The text of a text file.
    pub text: Option<String>,
}

impl Preview {
    /// Frees the object URL, once the preview is no longer shown.
    pub fn close(&self) {
        if let Some(url) = &self.url {
            revoke_url(url);
        }
    }
}

/// Turns a verified, decrypted file into what the preview dialog shows: its
/// text, or an object URL the dialog revokes when it closes.
pub async fn preview_of(
    blob: &web_sys::Blob,
    name: String,
    kind: PreviewKind,
) -> Result<Preview, String> {
    if kind == PreviewKind::Text {
        let text = blob_text(blob).await.ok_or_else(|| {
            "This browser could not show the text. Download it instead.".to_owned()
        })?;
        return Ok(Preview {
            name,
            kind,
            url: None,
            text: Some(text),
        });
    }
    let url = object_url(blob)
        .ok_or_else(|| "This browser could not show the file. Download it instead.".to_owned())?;
    Ok(Preview {
        name,
        kind,
        url: Some(url),
        text: None,
    })
}

/// A verified, decrypted file shown in the page.
#[component]
pub fn PreviewView(preview: Preview) -> impl IntoView {
    let name = preview.name.clone();
    match (preview.kind, preview.url, preview.text) {
        (PreviewKind::Image, Some(url), _) => view! {
            <img class="preview preview--image" src=url alt=format!("Preview of {name}")/>
        }
        .into_any(),
        // The Content-Security-Policy frames nothing but blob: URLs, which only
        // this page can make, from plaintext it verified. The URL is revoked
        // when the dialog closes; a tab opened from the link keeps its copy.
        (PreviewKind::Pdf, Some(url), _) => view! {
            <div class="preview preview--pdf">
                <iframe class="preview__frame" src=url.clone() title=format!("PDF preview of {name}")></iframe>
                <p class="field__hint">
                    "Verified and decrypted in this browser. "
                    <a href=url target="_blank" rel="noopener">{format!("Open {name} in a new tab")}</a>
                    " for a larger view; close that tab when you are done."
                </p>
            </div>
        }
        .into_any(),
        (_, _, Some(text)) => view! {
            <pre class="preview preview--text" tabindex="0" aria-label=format!("Text of {name}")>{text}</pre>
        }
        .into_any(),
        _ => view! { <p>"This file cannot be shown here. Download it instead."</p> }.into_any(),
    }
}
