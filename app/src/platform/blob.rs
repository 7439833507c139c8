//! Decrypted content handed to the browser: saving a `Blob` as a download,
//! object URLs for a preview, and a blob's text. Only ever given content that
//! was verified first.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What the person reads when the browser could not save a file.
pub const NOT_SAVED: &str = "This browser could not save the file. Try again.";

/// Offers `blob` as a download named `name` (its object URL revoked a minute later);
/// the error is the sentence for the person.
pub fn save_blob(blob: &web_sys::Blob, name: &str) -> Result<(), String> {
    let fail = |_| NOT_SAVED.to_owned();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| fail(JsValue::NULL))?;
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(fail)?;
    let anchor = document
        .create_element("a")
        .map_err(fail)?
        .unchecked_into::<web_sys::HtmlAnchorElement>();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // Revoked a minute later, once the browser has surely started reading a
    // large blob (an export of many gigabytes); revoking at once can cut it.
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

/// An object URL for `blob` (a preview's image or PDF); the caller revokes it
/// with [`revoke_url`] when it is no longer shown.
pub fn object_url(blob: &web_sys::Blob) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(blob).ok()
}

/// Frees an object URL made by [`object_url`].
pub fn revoke_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// The bytes of `blob` (a picked file, a decrypted download) in WASM memory,
/// or `None` if the browser could not read it.
pub async fn blob_bytes(blob: &web_sys::Blob) -> Option<Vec<u8>> {
    let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The text of `blob` (UTF-8), or `None` if the browser could not read it.
pub async fn blob_text(blob: &web_sys::Blob) -> Option<String> {
    JsFuture::from(blob.text())
        .await
        .ok()
        .and_then(|t| t.as_string())
}
