//! The idle lock. Keys open in an unattended tab are a risk, so after the
//! session's idle timeout without a key press, click, touch or scroll, the
//! tab forgets the keys and shows the sign-in form; two minutes before, a
//! dialog says so and offers to stay signed in. While the person is active
//! but sends nothing (typing a long note), the server is asked about the
//! session now and then, which keeps its idle clock in step with theirs.
//! What they had typed is kept in this tab's memory and put back after they
//! sign in again (`platform::idle`).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::{
    api::account::current_session,
    components::dialog::Modal,
    platform::{clock::now_ms, http::sleep_ms, idle},
    session::{use_session, AuthState, Session},
};

/// The warning comes this long before the lock.
const WARN_BEFORE_MS: f64 = 120_000.0;
/// While the person is active, the server hears from the tab at least this
/// often (or every quarter of the idle timeout, if that is shorter).
const KEEP_ALIVE_MS: f64 = 300_000.0;

/// "1:05": minutes and seconds.
fn clock_text(ms: f64) -> String {
    let secs = (ms / 1000.0).ceil().max(0.0) as u64;
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// What the lock says on the sign-in page.
fn locked_notice(idle_secs: u64) -> String {
    format!(
        "Your keys were locked after {} minutes without activity. Sign in again to go on \
         where you were; what you had typed is kept in this tab.",
        idle_secs / 60
    )
}

/// Watches activity while the keys are open; shows the warning; locks.
#[component]
pub fn IdleLock() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    // Milliseconds left before the lock while the warning shows.
    let left = RwSignal::new(None::<f64>);
    idle::watch();
    let lock = move |idle_secs: u64| {
        let path = format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        );
        idle::keep_input(path);
        left.set(None);
        if let AuthState::Unlocked(u) = session.state.get_untracked() {
            session.notice.set(Some(locked_notice(idle_secs)));
            session.state.set(AuthState::Locked(u.info));
        }
        // The server's session ends with the keys; a later sign-in makes a new one.
        leptos::task::spawn_local(async move {
            let _ = crate::api::account::logout().await;
        });
    };
    leptos::task::spawn_local(watch_loop(session, left, lock));
    // Signed in again after a lock: the input kept goes back into its page
    // (the sign-in page has gone back there).
    Effect::new(move |_| {
        let open = session.state.with(|s| matches!(s, AuthState::Unlocked(_)));
        if open && idle::kept_path().is_some() {
            idle::touch();
            leptos::task::spawn_local(async move {
                idle::restore_input().await;
            });
        }
    });
    let stay = Callback::new(move |()| {
        idle::touch();
        left.set(None);
        leptos::task::spawn_local(async move { check_server(session).await });
    });
    view! {
        <Modal
            open=Signal::derive(move || left.with(Option::is_some))
            title=Signal::derive(|| "Are you still there?".to_owned())
            on_close=stay
            return_to=Signal::derive(|| None)
            wide=false
        >
            <p role="alert">
                "To protect your records, medvault locks your keys when nothing happens in this tab for a while. "
                "It locks in " <strong>{move || left.get().map(clock_text)}</strong> "."
            </p>
            <div class="actions">
                <button type="button" class="button" autofocus on:click=move |_| stay.run(())>
                    "Stay signed in"
                </button>
            </div>
        </Modal>
    }
}

/// Asks the server about the session; one that ended there ends here too.
async fn check_server(session: Session) {
    match current_session().await {
        Ok(Some(_)) => {}
        Ok(None) => session.on_error(&shared::api::ApiError::from_code(
            shared::api::ErrorCode::Unauthorized,
        )),
        // Unreachable: the next request will say so; nothing to lock for.
        Err(_) => {}
    }
}

/// Once a second: the warning, the lock, and the keep-alive. Stops when the
/// component goes.
async fn watch_loop(session: Session, left: RwSignal<Option<f64>>, lock: impl Fn(u64) + 'static) {
    let mut last_ping = now_ms();
    // The activity the warning was shown for: later passive activity does
    // not dismiss it, only the button does.
    let mut warned_for = None::<f64>;
    loop {
        sleep_ms(1000).await;
        if left.try_get_untracked().is_none() {
            return;
        }
        let timeout_secs = session.state.with_untracked(|s| match s {
            AuthState::Unlocked(u) => Some(u.info.idle_timeout_secs),
            _ => None,
        });
        let Some(timeout_secs) = timeout_secs.filter(|s| *s > 0) else {
            warned_for = None;
            continue;
        };
        let timeout = timeout_secs as f64 * 1000.0;
        let now = now_ms();
        let active_at = match (warned_for, left.get_untracked()) {
            (Some(at), Some(_)) => at,
            _ => idle::last_activity_ms(),
        };
        let idle_ms = now - active_at;
        if idle_ms >= timeout {
            warned_for = None;
            lock(timeout_secs);
        } else if idle_ms >= timeout - WARN_BEFORE_MS {
            warned_for = Some(active_at);
            left.set(Some(timeout - idle_ms));
        } else {
            warned_for = None;
            let every = KEEP_ALIVE_MS.min(timeout / 4.0);
            if active_at > last_ping && now - last_ping >= every {
                last_ping = now;
                leptos::task::spawn_local(check_server(session));
            }
        }
    }
}
