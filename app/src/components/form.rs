//! Form pieces every account page uses: labelled fields, the password strength
//! meter, the error alert and the busy-aware submit button.

use leptos::{html, prelude::*};

use crate::tasks::common_passwords::{self, ListState};

/// A labelled text input bound to `value`. The label is bound with `for`, and the
/// hint (if any) is read with the field through `aria-describedby`.
#[component]
pub fn Field(
    /// The input's id (and the label's `for`).
    id: &'static str,
    /// The visible label.
    label: &'static str,
    /// The typed text.
    value: RwSignal<String>,
    /// The input's type.
    #[prop(default = "text")]
    kind: &'static str,
    /// The browser's autofill hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// A short help text under the field.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// Extra attributes for codes: numeric keyboard.
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described = hint.map(|_| hint_id.clone());
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                inputmode=inputmode
                spellcheck="false"
                autocapitalize="none"
                aria-describedby=described
                required
                bind:value=value
            />
            {hint.map(|h| view! { <p class="field__hint" id=hint_id>{h}</p> })}
        </div>
    }
}

/// The live strength meter under a new password: a `meter` role with the score,
/// its label and one hint, from `shared::account::strength`. The first typed
/// character fetches the list of common passwords; the meter is scored again when
/// it arrives, and says so if it could not be used.
#[component]
pub fn StrengthMeter(
    /// The password being typed.
    password: RwSignal<String>,
    /// The username it must not contain.
    username: Signal<String>,
) -> impl IntoView {
    let list = RwSignal::new(common_passwords::state());
    let asked = StoredValue::new(false);
    Effect::new(move |_| {
        if !asked.get_value() && password.with(|p| !p.is_empty()) {
            asked.set_value(true);
            // Returns at once when the list is there or failed already.
            leptos::task::spawn_local(
                async move { list.set(common_passwords::ensure_loaded().await) },
            );
        }
    });
    let strength = Memo::new(move |_| {
        list.track();
        password.with(|p| {
            let s = shared::account::strength(p, &username.get());
            (s.score, s.label, s.hint)
        })
    });
    let score = move || strength.get().0;
    view! {
        <div class="strength" aria-live="polite">
            <div
                class=move || format!("meter meter--{}", score())
                role="meter"
                aria-label="Password strength"
                aria-valuemin="0"
                aria-valuemax="4"
                aria-valuenow=move || score().to_string()
                aria-valuetext=move || strength.get().1
            >
                <div class="meter__bar"></div>
            </div>
            <p class="strength__text">
                <strong>"Strength: " {move || strength.get().1}</strong>
                ". "
                {move || strength.get().2}
                "."
            </p>
            <Show when=move || list.get() == ListState::Failed>
                <p class="strength__text">{common_passwords::LIST_FAILED_NOTE} "."</p>
            </Show>
        </div>
    }
}

/// The submit handler of a form with a new password: runs `submit` once the list
/// of common passwords is there or known to be unavailable, so a fast submit waits
/// for it instead of being refused.
pub fn new_password_submit(
    submit: impl Fn() + Clone + 'static,
) -> impl Fn(leptos::ev::SubmitEvent) + 'static {
    move |ev| {
        ev.prevent_default();
        common_passwords::after_list(submit.clone());
    }
}

/// Focuses `input` and selects its text once it is in the page: a dialog's
/// name field, ready to be typed over.
pub fn focus_and_select(input: NodeRef<html::Input>) {
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            request_animation_frame(move || {
                let _ = el.focus();
                el.select();
            });
        }
    });
}

/// Shows `error` in an alert and moves focus to it, so a screen reader user and a
/// keyboard user both land on what went wrong.
#[component]
pub fn ErrorAlert(error: RwSignal<Option<String>>) -> impl IntoView {
    let node = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if error.with(Option::is_some) {
            request_animation_frame(move || {
                if let Some(el) = node.get_untracked() {
                    let _ = el.focus();
                }
            });
        }
    });
    view! {
        <div class="alert-slot">
            <Show when=move || error.with(Option::is_some)>
                <div class="alert alert--error" role="alert" tabindex="-1" node_ref=node>
                    {move || error.get()}
                </div>
            </Show>
        </div>
    }
}

/// A calm status line (not an error), read out politely.
#[component]
pub fn StatusNote(message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <p class="alert alert--info" role="status">{move || message.get()}</p>
        </Show>
    }
}

/// A submit button that is disabled and reads "Working…" while `busy`.
#[component]
pub fn SubmitButton(
    /// The button's text when idle.
    label: &'static str,
    /// Whether the form's work is running.
    busy: Signal<bool>,
    /// Extra class (e.g. `button--secondary`).
    #[prop(default = "")]
    class: &'static str,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class=format!("button {class}")
            disabled=move || busy.get()
            aria-busy=move || busy.get().then_some("true")
        >
            {move || if busy.get() { "Working…" } else { label }}
        </button>
    }
}

/// The field of a "type the name to confirm" step before something that
/// cannot be undone (deleting an account), with the name to type as its hint.
#[component]
pub fn ConfirmName(
    /// The input's id (its hint's id is `{id}-hint`).
    id: &'static str,
    /// The visible label.
    label: &'static str,
    /// The name the person must type.
    name: String,
    /// What they typed.
    value: RwSignal<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="text" autocomplete="off" spellcheck="false"
                autocapitalize="none" aria-describedby=hint_id.clone() bind:value=value/>
            <p class="field__hint" id=hint_id>{format!("Type {name}.")}</p>
        </div>
    }
}
