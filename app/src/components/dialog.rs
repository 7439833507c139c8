//! A modal dialog on the browser's own `<dialog>`: it traps focus, closes with
//! Escape, and is announced as a dialog with its title. When it closes, focus
//! goes back to the control that opened it (found again by id, since the list
//! behind may have been redrawn meanwhile).

use leptos::{html, prelude::*};
use wasm_bindgen::JsCast;

/// Moves focus to the element with `id` once the page has redrawn; to the
/// page heading if it is gone (the item was deleted or moved).
pub fn return_focus(id: String) {
    set_timeout(
        move || {
            let document = document();
            let target = document
                .get_element_by_id(&id)
                .or_else(|| document.query_selector("main h1").ok().flatten())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(el) = target {
                let _ = el.focus();
            }
        },
        std::time::Duration::from_millis(50),
    );
}

/// A modal dialog shown while `open` holds. `on_close` runs when the person
/// closes it (the close button or Escape); the caller then clears `open`.
#[component]
pub fn Modal(
    /// Whether the dialog is shown.
    open: Signal<bool>,
    /// The heading, also the dialog's accessible name.
    title: Signal<String>,
    /// Called when the person closes the dialog.
    on_close: Callback<()>,
    /// The id of the control to focus after closing.
    return_to: Signal<Option<String>>,
    /// A wider dialog (previews, version lists).
    #[prop(into)]
    wide: Signal<bool>,
    /// The content.
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if let Some(el) = dialog.get() {
            if is_open && !el.open() {
                let _ = el.show_modal();
            } else if !is_open && el.open() {
                el.close();
            }
        }
        if was_open == Some(true) && !is_open {
            if let Some(id) = return_to.get_untracked() {
                return_focus(id);
            }
        }
        is_open
    });
    let class = move || {
        if wide.get() {
            "dialog dialog--wide"
        } else {
            "dialog"
        }
    };
    // Each dialog's own title id: a page can hold several (the idle lock's
    // is on every page), and a shared id would name them all after the first.
    let title_id = format!("dialog-title-{}", next_dialog());
    let labelled_by = title_id.clone();
    view! {
        <dialog
            node_ref=dialog
            class=class
            aria-labelledby=labelled_by
            on:close=move |_| {
                if open.get_untracked() {
                    on_close.run(());
                }
            }
        >
            <div class="dialog__head">
                <h2 id=title_id>{move || title.get()}</h2>
                <button
                    type="button"
                    class="button button--secondary button--small"
                    on:click=move |_| on_close.run(())
                >
                    "Close"
                </button>
            </div>
            <div class="dialog__body">
                {move || open.get().then(|| children())}
            </div>
        </dialog>
    }
}

/// A number for each dialog made in this tab.
fn next_dialog() -> u32 {
    thread_local!(static COUNT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    COUNT.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    })
}
