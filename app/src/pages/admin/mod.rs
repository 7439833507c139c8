//! `/admin`: the admin's installation certificate, invites, the list of
//! accounts, verifying doctors (the certificate is signed here with the admin's
//! key), and disabling, deleting and changing the role of accounts.

mod anchor;
mod change_role;
mod delete_user;
mod events;
mod invites;
mod users;

use leptos::prelude::*;
use shared::{
    api::admin::{OpenInvite, UserSummary},
    model::Role,
};

use crate::{
    api::admin::{list_invites, list_users},
    components::{form::StatusNote, page::Loaded},
    pages::with_keys,
    session::{use_session, Unlocked},
};
use anchor::InstallationCertificate;
use events::SystemEvents;
use invites::{InviteForm, InviteTable};
use users::{found_text, UserSearch, UserTable};

/// The admin page (needs the keys and the admin role).
#[component]
pub fn AdminPage() -> impl IntoView {
    with_keys(|u| {
        if u.info.role == Role::Admin {
            view! { <Admin unlocked=u/> }.into_any()
        } else {
            view! {
                <section class="card narrow" aria-labelledby="admin-heading">
                    <h1 id="admin-heading" tabindex="-1">"Administration"</h1>
                    <p>"This page is for administrators. Your account does not have that role."</p>
                </section>
            }
            .into_any()
        }
    })
}

#[component]
fn Admin(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    // The start of a username to look for ("" lists everyone).
    let query = RwSignal::new(String::new());
    let users = LocalResource::new(move || {
        let prefix = Some(query.get()).filter(|q| !q.is_empty());
        async move { list_users(prefix).await.map_err(|e| session.explain(&e)) }
    });
    let invites =
        LocalResource::new(
            move || async move { list_invites().await.map_err(|e| session.explain(&e)) },
        );
    let revoked = RwSignal::new(None::<String>);
    let changed = RwSignal::new(None::<String>);
    let unlocked = StoredValue::new_local(unlocked);
    view! {
        <div class="stack">
            <h1 id="admin-heading" tabindex="-1">"Administration"</h1>
            <InstallationCertificate unlocked=unlocked/>
            <InviteForm created=move || invites.refetch()/>
            <section class="card" aria-labelledby="open-invites-heading">
                <h2 id="open-invites-heading" tabindex="-1">"Open invites"</h2>
                <p>"Invite links that have not been used yet and have not expired. Revoke one if it was sent to the wrong person or may have leaked."</p>
                <StatusNote message=revoked.into()/>
                <Loaded data=invites waiting="Loading invites…" render={move |list: Vec<OpenInvite>| view! {
                    <InviteTable list=list reload=move || invites.refetch() done=revoked/>
                }}/>
            </section>
            <section class="card" aria-labelledby="users-heading">
                <h2 id="users-heading">"Accounts"</h2>
                <UserSearch query=query/>
                <StatusNote message=changed.into()/>
                <Loaded data=users waiting="Loading accounts…" render={move |list: Vec<UserSummary>| view! {
                    <p class="muted" role="status">{found_text(list.len(), &query.get_untracked())}</p>
                    <UserTable list=list unlocked=unlocked reload=move || users.refetch() changed=changed/>
                }}/>
            </section>
            <SystemEvents/>
        </div>
    }
}
