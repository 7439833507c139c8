//! A file's versions, newest first: restore an older one, or upload a new one.

use leptos::prelude::*;
use shared::{api::records::VersionView, model::Id};

use super::super::state::Ctx;
use crate::{
    components::{
        action::{use_action, ActionMessages, UseAction},
        file_browser::upload::UploadButton,
        page::Loaded,
    },
    platform::browser::format_time,
    tasks::{nodes, upload::UploadTarget},
};

/// A file's versions, as listed by the server.
type Versions = Vec<VersionView>;

#[component]
pub fn VersionsList(ctx: Ctx, node: Id) -> impl IntoView {
    let session = ctx.session;
    let versions = LocalResource::new(move || nodes::versions(session, node));
    let on_files = Callback::new(move |files: Vec<web_sys::File>| {
        let Some(file) = files.into_iter().next() else {
            return;
        };
        if let Some(this) = ctx.node(&node) {
            ctx.close();
            ctx.uploads
                .enqueue(vec![file], UploadTarget::NewVersion { node: this });
        }
    });
    let restore = use_action(move |version: VersionView| async move {
        let this = ctx
            .node(&node)
            .ok_or_else(|| "This file is gone. Reload the page.".to_owned())?;
        let done = ctx.restore_version(&this, version).await?;
        ctx.reload().await;
        versions.refetch();
        Ok(done)
    });
    let current = Signal::derive(move || {
        ctx.node(&node)
            .and_then(|n| n.view.current.map(|c| c.version))
    });
    view! {
        <div class="stack versions">
            <ActionMessages action=restore/>
            <UploadButton id="upload-version" label="Upload new version"
                class="button button--secondary" on_files=on_files/>
            <Loaded data=versions waiting="Loading versions…" render=move |list: Versions| view! {
                <VersionsTable list=list current=current restore=restore/>
            }/>
        </div>
    }
}

#[component]
fn VersionsTable(
    list: Vec<VersionView>,
    current: Signal<Option<u32>>,
    restore: UseAction<VersionView>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Versions, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"When"</th>
                        <th scope="col"><span class="visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|v| {
                        let number = v.version;
                        let is_current = current.get_untracked() == Some(number);
                        let author = v.author_name.clone();
                        let stored_at = v.stored_at;
                        view! {
                            <tr>
                                <th scope="row">
                                    {format!("Version {number}")}
                                    {is_current.then(|| view! { <span class="badge badge--ok">"Current"</span> })}
                                </th>
                                <td>{author}</td>
                                <td>{format_time(stored_at)}</td>
                                <td class="table__actions">
                                    {(!is_current).then(|| view! {
                                        <button type="button" class="button button--secondary button--small"
                                            aria-label=format!("Restore version {number}")
                                            disabled=move || restore.busy()
                                            on:click=move |_| restore.run(v.clone())>
                                            {move || if restore.busy_for(|r| r.version == number) { "Working…" } else { "Restore" }}
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
