//! A loaded page part that is drawn anew after each reload, for pages whose
//! forms stay usable while their data reloads (sharing, patients, emergency).
//!
//! [`crate::components::page::Loaded`] keeps the old drawing on screen until
//! the new data is in (a `Transition`), so what someone types in a form in
//! that moment lands in a form about to be replaced and is lost. [`Reloaded`]
//! shows the waiting line instead while the data reloads (a `Suspense`), as
//! these pages always did: the forms come back empty, once, with the news.

use leptos::prelude::*;

use crate::components::page::LoadError;

/// Draws `data` with `render` once loaded, and again after each
/// `data.refetch()`, with `waiting` in between.
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
        <Suspense fallback=move || view! { <p class="status status--pending" role="status">{waiting}</p> }>
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
                {
                    let render = render.clone();
                    move || data.get().map(|result| result.map(&render).map_err(LoadError))
                }
            </ErrorBoundary>
        </Suspense>
    }
}
