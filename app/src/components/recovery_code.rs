//! A recovery code shown once, with the same "write it down" presentation at
//! sign-up and for a new code (made by `tasks::account::replace_recovery_code`).

use leptos::prelude::*;
use zeroize::Zeroizing;

use crate::{components::form::ErrorAlert, platform::browser::download_text};

/// A recovery code in its groups of four, for the labelled `recovery-code` box.
pub fn code_groups(code: &str) -> impl IntoView {
    code.split('-')
        .map(|g| view! { <span class="recovery-code__group">{g.to_owned()}</span> })
        .collect_view()
}

/// Offers `username`'s recovery code as a text file; `replaced` adds that
/// earlier codes no longer work. The error is the sentence to show when the
/// download did not start.
pub fn download_code(username: &str, code: &str, replaced: bool) -> Result<(), String> {
    let earlier = if replaced {
        " Earlier recovery codes no longer work."
    } else {
        ""
    };
    let text = Zeroizing::new(format!(
        "medvault recovery code for {username}\n\n{code}\n\nKeep this somewhere safe and private. With it you can set a new password if you forget yours. Anyone who has it and your username can open your account.{earlier}\n"
    ));
    download_text("medvault-recovery-code.txt", &text)
        .map_err(|_| "The download did not start. Write the code down instead.".to_owned())
}

/// Shows a freshly made recovery code once, with a download button and an
/// "I have saved it" check before `done` can be pressed.
#[component]
pub fn NewRecoveryCode(
    /// The code to show (zeroised when this view goes).
    code: Zeroizing<String>,
    /// Whose code it is, for the downloaded file.
    username: String,
    /// What the final button says.
    #[prop(default = "Done")]
    done_label: &'static str,
    /// Called when the user confirmed they saved it.
    done: impl Fn() + Clone + 'static,
) -> impl IntoView {
    let code = StoredValue::new_local(code);
    let saved = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let download = move |_| {
        if let Err(e) = code.with_value(|c| download_code(&username, c, true)) {
            error.set(Some(e));
        }
    };
    let finish = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saved.get_untracked() {
            done();
        }
    };
    view! {
        <form class="form recovery" on:submit=finish novalidate>
            <h3 id="new-recovery-heading" tabindex="-1">"Save your new recovery code"</h3>
            <p>
                "Your old recovery code no longer works. This new code is the only way back into your account if you forget your password. "
                "It is shown only this once. Download it or write it down, and keep it somewhere safe and private."
            </p>
            <ErrorAlert error=error/>
            <div class="recovery-code" role="group" aria-label="Your new recovery code">
                {code.with_value(|c| code_groups(c))}
            </div>
            <p>
                <button type="button" class="button button--secondary" on:click=download>
                    "Download recovery code"
                </button>
            </p>
            <div class="checkbox">
                <input id="new-code-saved" type="checkbox" bind:checked=saved/>
                <label for="new-code-saved">"I have saved my new recovery code somewhere safe"</label>
            </div>
            <button type="submit" class="button" disabled=move || !saved.get()>{done_label}</button>
        </form>
    }
}
