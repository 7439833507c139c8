//! The small coloured labels that say where a share or a request stands.

use leptos::prelude::*;
use shared::api::sharing::{GrantStatus, RequestStatus};

pub fn status_badge(status: GrantStatus) -> impl IntoView {
    let (class, text) = match status {
        GrantStatus::Active => ("badge badge--ok", "Active"),
        GrantStatus::Expired => ("badge badge--muted", "Expired"),
        GrantStatus::Revoked => ("badge badge--muted", "Removed"),
        GrantStatus::Standby => ("badge badge--muted", "Not in use"),
        GrantStatus::Waiting => ("badge badge--warn", "Emergency request waiting"),
        GrantStatus::Declined => ("badge badge--muted", "Declined by the doctor"),
    };
    view! { <span class=class>{text}</span> }
}

pub fn request_badge(status: RequestStatus) -> impl IntoView {
    let (class, text) = match status {
        RequestStatus::Pending => ("badge badge--warn", "Waiting for an answer"),
        RequestStatus::Approved => ("badge badge--ok", "Approved"),
        RequestStatus::Denied => ("badge badge--muted", "Denied"),
    };
    view! { <span class=class>{text}</span> }
}
