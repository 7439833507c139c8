//! The items of one folder, as rows, or a word that it is empty.
//!
//! A folder can hold thousands of items (a patient importing a CD): the list
//! shows the first [`PAGE`] rows and, below it, how many of how many are shown
//! with buttons for more, so opening such a folder costs what opening a small
//! one does. Each "Show more" appends rows; the ones shown stay (and keep
//! focus). Search (`/records/search`) looks through every item.

use std::sync::Arc;

use leptos::prelude::*;
use shared::{model::Id, records::OpenNode};

use super::file_row::{Capabilities, FileRow, RowAction, RowBusy};
use crate::{platform::browser::focus_later, tasks::progress::Progress};

/// Rows shown at first, and added by each "Show more".
pub const PAGE: usize = 200;

/// What the rows of a folder need besides their item.
#[derive(Clone, Copy)]
pub struct RowContext {
    /// What the viewer may do.
    pub caps: Capabilities,
    /// The record's owner.
    pub owner_id: Id,
    /// Which row action runs.
    pub busy: RowBusy,
    /// The download running: (item, progress).
    pub download: Signal<Option<(Id, Progress)>>,
    /// What a row's button asks for.
    pub on_action: Callback<(RowAction, OpenNode)>,
}

/// The folder's items (each with how many items it holds, for folders), the
/// first `shown` of them as rows (`shown` lives with the folder, so a change
/// to the record keeps the rows the person asked for).
#[component]
pub fn FolderList(
    items: Arc<Vec<(OpenNode, usize)>>,
    rows: RowContext,
    shown: RwSignal<usize>,
) -> impl IntoView {
    if items.is_empty() {
        return view! {
            <p class="empty card">"This folder is empty. Upload files or add a note to start."</p>
        }
        .into_any();
    }
    let total = items.len();
    let pages = move || 0..shown.get().clamp(PAGE, total.max(PAGE)).div_ceil(PAGE);
    view! {
        <ul class="items card" aria-label="Folders and files">
            <For each=pages key=|page| *page let:page>
                {
                    let end = ((page + 1) * PAGE).min(total);
                    items.get(page * PAGE..end).unwrap_or_default().iter().cloned().map(|(node, count)| {
                        row(node, count, rows)
                    }).collect_view()
                }
            </For>
        </ul>
        <ShowMore total=total shown=shown/>
    }
    .into_any()
}

fn row(node: OpenNode, count: usize, rows: RowContext) -> impl IntoView {
    let id = *node.id();
    let download = rows.download;
    let downloading = Signal::derive(move || {
        download.with(|d| d.as_ref().filter(|(d, _)| *d == id).map(|(_, p)| *p))
    });
    view! {
        <FileRow node=node count=count caps=rows.caps owner_id=rows.owner_id
            busy=rows.busy downloading=downloading on_action=rows.on_action/>
    }
}

/// How many rows are shown, and the buttons for more (none when all are).
#[component]
fn ShowMore(total: usize, shown: RwSignal<usize>) -> impl IntoView {
    let now = move || shown.get().max(PAGE).min(total);
    move || {
        let n = now();
        (n < total).then(|| {
            let next = PAGE.min(total - n);
            view! {
                <div class="items__more">
                    <p class="muted" role="status">{format!("Showing {n} of {total} items.")}</p>
                    <button type="button" class="button button--secondary"
                        on:click=move |_| show(shown, n, n + PAGE)>
                        {format!("Show {next} more")}
                    </button>
                    <button type="button" class="button button--secondary"
                        on:click=move |_| show(shown, n, total)>
                        {format!("Show all {total}")}
                    </button>
                </div>
            }
        })
    }
}

/// Shows rows up to `upto` and moves focus to the first new one (the buttons
/// may be gone once every row is shown).
fn show(shown: RwSignal<usize>, was: usize, upto: usize) {
    shown.set(upto);
    focus_later(format!(
        "ul.items > li:nth-child({}) :is(a, button)",
        was + 1
    ));
}
