//! The medvault browser app. It holds the user's keys in memory and does every
//! cryptographic step itself; the server only ever sees ciphertext.

pub mod api;
pub mod components;
pub mod pages;
pub mod platform;
pub mod session;
pub mod tasks;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::{use_location, use_navigate},
    path, NavigateOptions,
};

use components::{
    idle_lock::IdleLock,
    layout::{SiteFooter, SiteHeader, SkipLink},
};
use pages::{
    account::AccountPage,
    admin::AdminPage,
    audit::AuditPage,
    directory::DirectoryPage,
    emergency::EmergencyPage,
    health::HealthPage,
    history::HistoryPage,
    home::HomePage,
    not_found::NotFoundPage,
    notifications::NotificationsPage,
    patients::{shared_record::SharedRecordPage, PatientsPage},
    records::{RecordsPage, TrashPage},
    recover::RecoverPage,
    search::SearchPage,
    sharing::SharingPage,
    signin::SignInPage,
    signup::SignUpPage,
    vitals::VitalsPage,
};
use session::{AuthState, Session};

/// The whole app: the session context, layout landmarks around the router's
/// current page.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    // A decrypted download left in browser storage by a closed tab goes now.
    platform::spool::sweep();
    // The decrypted record, shared by every page for the whole session.
    tasks::record::RecordStore::provide(session);
    // Ask once whether the server still has a session for this browser. Keys are
    // never stored, so a live session after a reload is "locked" until sign-in.
    leptos::task::spawn_local(async move {
        let state = match api::account::current_session().await {
            Ok(Some(info)) => AuthState::Locked(info),
            _ => AuthState::SignedOut,
        };
        // A sign-in that finished meanwhile wins.
        if matches!(session.state.get_untracked(), AuthState::Checking) {
            session.state.set(state);
        }
    });

    view! {
        <Router>
            <SkipLink/>
            <SiteHeader/>
            <SecondFactorGate/>
            <IdleLock/>
            <FocusOnNavigate/>
            <main id="main" class="page" tabindex="-1">
                <Routes fallback=|| view! { <NotFoundPage/> }>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/signup") view=SignUpPage/>
                    <Route path=path!("/signin") view=SignInPage/>
                    <Route path=path!("/recover") view=RecoverPage/>
                    <Route path=path!("/account") view=AccountPage/>
                    <Route path=path!("/directory") view=DirectoryPage/>
                    <Route path=path!("/admin") view=AdminPage/>
                    <Route path=path!("/history") view=HistoryPage/>
                    <Route path=path!("/audit") view=AuditPage/>
                    <Route path=path!("/records") view=RecordsPage/>
                    <Route path=path!("/records/trash") view=TrashPage/>
                    <Route path=path!("/vitals") view=VitalsPage/>
                    <Route path=path!("/health") view=HealthPage/>
                    <Route path=path!("/records/search") view=SearchPage/>
                    <Route path=path!("/sharing") view=SharingPage/>
                    <Route path=path!("/patients") view=PatientsPage/>
                    <Route path=path!("/patients/:grant") view=SharedRecordPage/>
                    <Route path=path!("/emergency") view=EmergencyPage/>
                    <Route path=path!("/notifications") view=NotificationsPage/>
                </Routes>
            </main>
            <SiteFooter/>
        </Router>
    }
}

/// While the installation requires a second factor this account lacks (the
/// server then answers nothing else), every page leads to Account, where the
/// set-up is.
#[component]
fn SecondFactorGate() -> impl IntoView {
    let session = session::use_session();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let required = session
            .unlocked()
            .is_some_and(|u| u.info.second_factor_required);
        if required && location.pathname.get() != "/account" {
            navigate(
                "/account",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
}

/// After each in-app navigation, moves focus to the new page's heading so screen
/// reader and keyboard users start at the top of what changed.
#[component]
fn FocusOnNavigate() -> impl IntoView {
    let location = use_location();
    Effect::new(move |first: Option<()>| {
        // Reading the path (not only tracking it) is what subscribes the effect.
        let _path = location.pathname.get();
        if first.is_some() {
            platform::browser::focus_later("main h1");
        }
    });
}
