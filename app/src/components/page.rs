//! The one shell for a page part that loads data: a polite "Loading…" while
//! it comes, the data drawn once it is there, and an alert with the reason
//! (which already says what to do next) when it could not be loaded.
//!
//! Two ways to behave on a reload (`data.refetch()` after a change):
//! [`Loaded`] keeps what is shown until the new data is in, right for lists
//! and tables; [`Reloaded`] shows the waiting line again and draws the part
//! anew, right for parts holding forms, whose half-typed input would
//! otherwise land in a form about to be replaced.

use leptos::prelude::*;

/// A load that failed, with the sentence for the person; what
/// [`ErrorBoundary`] catches.
#[derive(Clone, Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

/// The waiting line.
fn waiting_line(waiting: &'static str) -> impl IntoView {
    view! { <p class="status status--pending" role="status">{waiting}</p> }
}

/// The data drawn, or the reason it could not be loaded in an alert.
fn drawn<T, V, F>(data: LocalResource<Result<T, String>>, render: F) -> impl IntoView
where
    T: Clone + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <ErrorBoundary fallback=|errors| view! {
            <p class="alert alert--error" role="alert">
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| e.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                }}
            </p>
        }>
            // `try_get`: a load that ends after the page was left (the
            // session ended meanwhile, say) finds the resource disposed, and
            // draws nothing instead of trapping.
            {move || data.try_get().flatten().map(|result| result.map(&render).map_err(LoadError))}
        </ErrorBoundary>
    }
}

/// Draws `data` with `render` once loaded; on a reload what was shown stays
/// until the new data is in.
#[component]
pub fn Loaded<T, V, F>(
    /// The data; its error is the sentence shown in the alert.
    data: LocalResource<Result<T, String>>,
    /// What the wait says, e.g. "Loading your sessions…".
    waiting: &'static str,
    /// Draws the data.
    render: F,
) -> impl IntoView
where
    T: Clone + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=move || waiting_line(waiting)>
            {drawn(data, render.clone())}
        </Transition>
    }
}

/// Draws `data` with `render` once loaded, and anew after each reload, with
/// `waiting` in between.
#[component]
pub fn Reloaded<T, V, F>(
    /// The data; its error is the sentence shown in the alert.
    data: LocalResource<Result<T, String>>,
    /// What the wait says, e.g. "Loading your sharing…".
    waiting: &'static str,
    /// Draws the data.
    render: F,
) -> impl IntoView
where
    T: Clone + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Suspense fallback=move || waiting_line(waiting)>
            {drawn(data, render.clone())}
        </Suspense>
    }
}
