//! Small pieces of the browser the pages need: waiting a frame, the highest key
//! pin object seen (and the keys seen before pins moved to the server), downloading a text file, the clipboard, moving focus.

use wasm_bindgen::{JsCast, JsValue};

/// Lets the browser paint (a busy state) before a long synchronous step such as
/// Argon2 blocks the thread.
pub async fn next_paint() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 30);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The origin's localStorage, if the browser gives one (the platform modules
/// that remember things between visits all read and write through it).
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

const SEEN_PREFIX: &str = "medvault.seen.";

/// The keys this browser remembered before pins moved into the user's own
/// object on the server: (username, user id in base64url, safety number), to
/// migrate once (`tasks::directory`).
pub fn local_seen_keys() -> Vec<(String, String, String)> {
    let Some(storage) = local_storage() else {
        return Vec::new();
    };
    let count = storage.length().unwrap_or(0);
    (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter_map(|key| {
            let username = key.strip_prefix(SEEN_PREFIX)?.to_owned();
            let value = storage.get_item(&key).ok().flatten()?;
            let (id, number) = value.split_once(' ')?;
            Some((username, id.to_owned(), number.to_owned()))
        })
        .collect()
}

const PINS_COUNTER_PREFIX: &str = "medvault.pins-counter.";

/// The highest counter of `user_id`'s (base64url) pin object this browser
/// verified: an older one served later is a rollback. Not secret.
pub fn pins_counter(user_id: &str) -> Option<u64> {
    local_storage()?
        .get_item(&format!("{PINS_COUNTER_PREFIX}{user_id}"))
        .ok()
        .flatten()?
        .parse()
        .ok()
}

/// Remembers that this browser verified `user_id`'s pin object `counter`;
/// never lowers what it remembered.
pub fn remember_pins_counter(user_id: &str, counter: u64) {
    if pins_counter(user_id).is_some_and(|seen| seen >= counter) {
        return;
    }
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(
            &format!("{PINS_COUNTER_PREFIX}{user_id}"),
            &counter.to_string(),
        );
    }
}

const REMOVED_PREFIX: &str = "medvault.removed-grants.";
/// How many removed grants a browser remembers per user (the newest).
const REMOVED_KEPT: usize = 2000;

/// Grant ids (base64url) this browser removed for `user_id`: a key rotation
/// never wraps new keys to them, whatever the server lists. Grant ids are
/// not secret (the server knows them), so localStorage is fine.
pub fn removed_grants(user_id: &str) -> Vec<String> {
    local_storage()
        .and_then(|s| {
            s.get_item(&format!("{REMOVED_PREFIX}{user_id}"))
                .ok()
                .flatten()
        })
        .map(|v| {
            v.split(' ')
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Remembers that this browser removed `grant_id` (base64url) for `user_id`.
pub fn remember_removed_grant(user_id: &str, grant_id: &str) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut list = removed_grants(user_id);
    if list.iter().any(|g| g == grant_id) {
        return;
    }
    list.push(grant_id.to_owned());
    let start = list.len().saturating_sub(REMOVED_KEPT);
    let _ = storage.set_item(
        &format!("{REMOVED_PREFIX}{user_id}"),
        &list[start..].join(" "),
    );
}

const REKEYED_PREFIX: &str = "medvault.rekeyed-grants.";

/// Grant ids (base64url) whose end this browser answered for `user_id` with
/// a committed key replacement of their folder (or one above it): their
/// folders owe no new keys on their account any more. Not secret either.
pub fn rekeyed_grants(user_id: &str) -> Vec<String> {
    local_storage()
        .and_then(|s| {
            s.get_item(&format!("{REKEYED_PREFIX}{user_id}"))
                .ok()
                .flatten()
        })
        .map(|v| {
            v.split(' ')
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Remembers that the keys were replaced after these grants (base64url) of
/// `user_id` ended.
pub fn remember_rekeyed_grants(user_id: &str, grant_ids: &[String]) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut list = rekeyed_grants(user_id);
    for id in grant_ids {
        if !list.contains(id) {
            list.push(id.clone());
        }
    }
    let start = list.len().saturating_sub(REMOVED_KEPT);
    let _ = storage.set_item(
        &format!("{REKEYED_PREFIX}{user_id}"),
        &list[start..].join(" "),
    );
}

/// Offers `text` as a plain-text download named `filename`.
pub fn download_text(filename: &str, text: &str) -> Result<(), JsValue> {
    download_text_as(filename, text, "text/plain;charset=utf-8")
}

/// Offers `text` as a download named `filename` with MIME type `mime`, through
/// a Blob and an object URL that is revoked straight after the click.
pub fn download_text_as(filename: &str, text: &str, mime: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let document = window.document().ok_or(JsValue::NULL)?;
    let parts = js_sys::Array::new();
    parts.push(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let anchor = document
        .create_element("a")?
        .dyn_into::<web_sys::HtmlAnchorElement>()?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

/// Copies `text` to the clipboard; resolves to whether it worked.
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Moves keyboard focus to the first element matching `selector` once the
/// current render (and a route change's) has finished.
pub fn focus_later(selector: impl Into<String>) {
    let selector: String = selector.into();
    leptos::prelude::set_timeout(
        move || {
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(&selector).ok().flatten())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        },
        std::time::Duration::from_millis(60),
    );
}

/// The page's origin, for invite links.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// A Unix time as a date and time people read at a glance ("18 November 2026 at 11:06").
pub fn format_time(unix_seconds: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"long".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    String::from(date.to_locale_string("en-GB", &options))
}

/// A Unix time in ISO 8601 (UTC), for files people import elsewhere.
pub fn iso_time(unix_seconds: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0));
    String::from(date.to_iso_string())
}

/// A date input's value (`YYYY-MM-DD`, local midnight) as Unix seconds.
pub fn parse_date_input(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    let parts: Vec<u32> = value.split('-').filter_map(|p| p.parse().ok()).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let date = js_sys::Date::new_with_year_month_day(*y, *m as i32 - 1, *d as i32);
    let ms = date.get_time();
    ms.is_finite().then(|| (ms / 1000.0) as i64)
}

/// A Unix time as a short date ("18 Nov 2026"), for lists.
pub fn format_date(unix_seconds: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    String::from(date.to_locale_date_string("en-GB", &options))
}

/// An id as the text used in addresses, element ids, links and the server's
/// paths (base64url, as on the wire).
pub fn id_text(id: &shared::model::Id) -> String {
    shared::crypto::b64::encode(id)
}

const PROFILE_SEQ_PREFIX: &str = "medvault.profile-seq.";

/// The highest profile counter of `patient` (base64url) that `reader`
/// (base64url) has seen in this browser: an older profile served later is
/// a replay. Not secret.
pub fn profile_seq(reader: &str, patient: &str) -> Option<u64> {
    local_storage()?
        .get_item(&format!("{PROFILE_SEQ_PREFIX}{reader}.{patient}"))
        .ok()
        .flatten()?
        .parse()
        .ok()
}

/// Remembers that `reader` saw `patient`'s profile `seq`; never lowers it.
pub fn remember_profile_seq(reader: &str, patient: &str, seq: u64) {
    if profile_seq(reader, patient).is_some_and(|seen| seen >= seq) {
        return;
    }
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(
            &format!("{PROFILE_SEQ_PREFIX}{reader}.{patient}"),
            &seq.to_string(),
        );
    }
}
