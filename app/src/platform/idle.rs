//! The browser's side of the idle lock (`components/idle_lock.rs`): when the
//! person last pressed a key, clicked, touched or scrolled in this tab, and
//! the form input they leave behind when the lock comes, kept in this tab's
//! memory only (never in storage) and put back after they sign in again.

use std::cell::{Cell, RefCell};

use wasm_bindgen::{closure::Closure, JsCast};

use super::clock::now_ms;

thread_local! {
    static LAST_ACTIVITY: Cell<f64> = Cell::new(now_ms());
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// Starts noting activity (once per page load; later calls do nothing).
pub fn watch() {
    if WATCHING.with(|w| w.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let note = Closure::<dyn Fn()>::new(touch);
    let options = web_sys::AddEventListenerOptions::new();
    options.set_capture(true);
    options.set_passive(true);
    for event in ["keydown", "pointerdown", "wheel", "touchstart"] {
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
            event,
            note.as_ref().unchecked_ref(),
            &options,
        );
    }
    // The listeners live as long as the page.
    note.forget();
}

/// Counts now as activity (the person chose to stay signed in).
pub fn touch() {
    LAST_ACTIVITY.with(|t| t.set(now_ms()));
}

/// When the person was last active, in [`now_ms`] time.
pub fn last_activity_ms() -> f64 {
    LAST_ACTIVITY.with(Cell::get)
}

/// One field's value as the person left it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Checked(bool),
}

/// The input left on a page when the lock came: where, and each field by id.
struct Kept {
    path: String,
    fields: Vec<(String, Value)>,
}

/// Keeps what is typed in the page's fields that have an id (not passwords,
/// files or buttons), with the page's address; answers how many fields.
pub fn keep_input(path: String) -> usize {
    let mut fields = Vec::new();
    let found = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        d.query_selector_all("main input[id], main textarea[id], main select[id]")
            .ok()
    });
    if let Some(list) = found {
        for i in 0..list.length() {
            if let Some(field) = list.item(i).and_then(|n| read_field(&n)) {
                fields.push(field);
            }
        }
    }
    let count = fields.len();
    KEPT.with(|k| k.replace(Some(Kept { path, fields })));
    count
}

fn read_field(node: &web_sys::Node) -> Option<(String, Value)> {
    if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
        let kind = input.type_();
        return match kind.as_str() {
            "password" | "file" | "hidden" | "submit" | "button" | "reset" | "image" => None,
            "checkbox" | "radio" => Some((input.id(), Value::Checked(input.checked()))),
            _ if input.value().is_empty() => None,
            _ => Some((input.id(), Value::Text(input.value()))),
        };
    }
    if let Some(text) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        return (!text.value().is_empty()).then(|| (text.id(), Value::Text(text.value())));
    }
    node.dyn_ref::<web_sys::HtmlSelectElement>()
        .map(|select| (select.id(), Value::Text(select.value())))
}

/// Where the person was when the lock came, if input was kept.
pub fn kept_path() -> Option<String> {
    KEPT.with(|k| k.borrow().as_ref().map(|k| k.path.clone()))
}

/// Puts the kept input back into the fields of the page now shown, as if
/// typed (so the page's own state follows), waiting up to 5 seconds for
/// them to appear; answers how many fields were filled. The kept input is
/// forgotten either way.
pub async fn restore_input() -> usize {
    let Some(kept) = KEPT.with(|k| k.borrow_mut().take()) else {
        return 0;
    };
    let mut waiting = kept.fields;
    let mut restored = 0;
    for _ in 0..50 {
        // In page order: a choice made in a select above can decide which
        // fields below are shown.
        waiting.retain(|(id, value)| {
            let filled = fill(id, value);
            restored += usize::from(filled);
            !filled
        });
        if waiting.is_empty() {
            break;
        }
        super::http::sleep_ms(100).await;
    }
    restored
}

/// Sets one field and tells the page, as typing would.
fn fill(id: &str, value: &Value) -> bool {
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    else {
        return false;
    };
    match value {
        Value::Text(text) => {
            if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
                input.set_value(text);
            } else if let Some(area) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                area.set_value(text);
            } else if let Some(select) = el.dyn_ref::<web_sys::HtmlSelectElement>() {
                select.set_value(text);
            } else {
                return false;
            }
        }
        Value::Checked(on) => match el.dyn_ref::<web_sys::HtmlInputElement>() {
            Some(input) => input.set_checked(*on),
            None => return false,
        },
    }
    for name in ["input", "change"] {
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        if let Ok(event) = web_sys::Event::new_with_event_init_dict(name, &init) {
            let _ = el.dispatch_event(&event);
        }
    }
    true
}
