//! One way to run a button's or a form's work: busy while it runs, its error
//! in the page's alert, its success in a calm status line. Pages use
//! [`use_action`] instead of writing the guard, the `spawn_local` and the
//! three signals by hand.

use std::future::Future;

use leptos::prelude::*;

use crate::components::form::{ErrorAlert, StatusNote};

/// What a piece of work gives back: a sentence to show when it went well
/// (`None` when the page itself shows the result), or the sentence that says
/// what went wrong and what to do next.
pub type Outcome = Result<Option<String>, String>;

/// A running or idle piece of work with its messages; cheap to copy into
/// event handlers.
pub struct UseAction<I: 'static> {
    action: Action<I, Outcome>,
    /// The last failure, shown in an alert that takes the focus.
    pub error: RwSignal<Option<String>>,
    /// The last success, read out politely.
    pub status: RwSignal<Option<String>>,
}

impl<I: 'static> Clone for UseAction<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: 'static> Copy for UseAction<I> {}

/// Wraps `work` (given the input, owned) as an action whose error and status
/// land in the returned signals. A second run while one is going is ignored,
/// so a double click never sends the same change twice.
pub fn use_action<I, F, Fut>(work: F) -> UseAction<I>
where
    I: Clone + 'static,
    F: Fn(I) -> Fut + 'static,
    Fut: Future<Output = Outcome> + 'static,
{
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let action = Action::new_local(move |input: &I| {
        let work = work(input.clone());
        async move {
            let outcome = work.await;
            match &outcome {
                Ok(Some(done)) => {
                    status.try_set(Some(done.clone()));
                }
                Ok(None) => {}
                Err(message) => {
                    error.try_set(Some(message.clone()));
                }
            }
            outcome
        }
    });
    UseAction {
        action,
        error,
        status,
    }
}

impl<I: 'static> UseAction<I> {
    /// Starts the work, clearing the previous messages; ignored while a run
    /// is still going.
    pub fn run(&self, input: I) {
        if self.action.pending().get_untracked() {
            return;
        }
        self.error.set(None);
        self.status.set(None);
        self.action.dispatch_local(input);
    }

    /// Whether the work is running (tracked).
    pub fn busy(&self) -> bool {
        self.action.pending().get()
    }

    /// Whether the work is running for an input that `matches` (tracked): the
    /// one row whose button shows "Working…" in a list of many.
    pub fn busy_for(&self, matches: impl Fn(&I) -> bool) -> bool {
        self.busy()
            && self
                .action
                .input()
                .with(|input| input.as_ref().is_some_and(&matches))
    }

    /// `busy` as a signal, for [`crate::components::form::SubmitButton`].
    pub fn busy_signal(&self) -> Signal<bool> {
        let pending = self.action.pending();
        Signal::derive(move || pending.get())
    }

    /// The last outcome, once a run has finished (tracked).
    pub fn outcome(&self) -> Option<Outcome> {
        self.action.value().get()
    }
}

/// The alert and the status line of an action, where the page wants them.
#[component]
pub fn ActionMessages<I: 'static>(action: UseAction<I>) -> impl IntoView {
    view! {
        <ErrorAlert error=action.error/>
        <StatusNote message=action.status.into()/>
    }
}
