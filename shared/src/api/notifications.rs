//! In-app notifications: what happened that concerns the caller and that
//! they did not do themselves (a request to answer, an answer to a request,
//! a new share, an emergency request or opening, a file a doctor added to
//! their record), plus their shares that end within seven days. Each names
//! the other person by username and the ids involved; never a file name or a
//! folder name, which the server cannot read. The app words them.

use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::{crypto::b64, model::Id};

/// Most notifications one answer lists (the newest).
pub const MAX_LISTED: usize = 100;

/// How far ahead a share's end is announced, in seconds (7 days).
pub const ENDING_WITHIN_SECS: i64 = 7 * 24 * 60 * 60;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// To a patient: a doctor asked for access (`other`: the doctor).
    AccessRequested,
    /// To a doctor: the patient approved their request (`other`: the patient).
    AccessApproved,
    /// To a doctor: the patient said no (`other`: the patient).
    AccessDenied,
    /// To a doctor or contact: a patient shared part of their record.
    ShareReceived,
    /// To a user a patient named as their emergency contact.
    ContactNamed,
    /// To a patient: an emergency contact asked to open the record.
    EmergencyRequested,
    /// To a patient: an emergency contact opened the record.
    EmergencyOpened,
    /// To a patient: a doctor added a file or a new version (`node`: the file).
    FileWritten,
    /// A share that ends within [`ENDING_WITHIN_SECS`] (`at`: its end; to both
    /// sides; made when listed, never stored).
    ShareEnding,
}

/// One notification as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Its id (random; a share's ending notice: the grant's id).
    #[serde(with = "b64::array")]
    pub id: Id,
    /// What it is about.
    pub kind: NoticeKind,
    /// When it happened, Unix seconds (a share ending: when it ends).
    pub at: i64,
    /// The other person's username ("" if the account is gone).
    pub other: String,
    /// The grant involved, if any.
    #[serde(with = "b64::option_array", default)]
    pub grant_id: Option<Id>,
    /// The node involved, if any (a file a doctor wrote).
    #[serde(with = "b64::option_array", default)]
    pub node_id: Option<Id>,
    /// Not yet marked as read (a share ending is never "read": it stays while
    /// it is true).
    pub unread: bool,
}

/// The caller's notifications, newest first, and how many are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notices {
    /// At most [`MAX_LISTED`] stored ones, newest first, after the shares
    /// ending soon (soonest first).
    pub notices: Vec<Notice>,
    /// Stored notices not yet read, plus shares ending soon: the header's count.
    pub unread: u32,
}

/// The caller's address for notification e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeEmail {
    /// The address, if they gave one.
    pub email: Option<String>,
    /// Whether this server sends e-mail at all (`--smtp-url`).
    pub available: bool,
}

/// The server side of the notification calls.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait NotificationsBackend {
    /// The caller's notifications.
    async fn notices(&self, caller: &super::Caller) -> Result<Notices, ApiError>;
    /// Marks every stored notification up to now as read.
    async fn mark_read(&self, caller: &super::Caller) -> Result<Notices, ApiError>;
    /// The caller's address for notification e-mail.
    async fn notice_email(&self, caller: &super::Caller) -> Result<NoticeEmail, ApiError>;
    /// Sets (or, with `None`, removes) that address.
    async fn set_notice_email(
        &self,
        caller: &super::Caller,
        email: Option<String>,
    ) -> Result<NoticeEmail, ApiError>;
}

/// The caller's notifications and the unread count.
#[leptos::server(prefix = "/api", endpoint = "notifications", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn list_notices() -> Result<Notices, ApiError> {
    let caller = super::caller()?;
    super::backend()?.notices(&caller).await
}

/// Marks the caller's notifications as read; answers them as they are then.
#[leptos::server(prefix = "/api", endpoint = "notifications/read", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn mark_notices_read() -> Result<Notices, ApiError> {
    let caller = super::caller()?;
    super::backend()?.mark_read(&caller).await
}

/// The caller's address for notification e-mail, and whether the server
/// sends any.
#[leptos::server(prefix = "/api", endpoint = "notifications/email", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn get_notice_email() -> Result<NoticeEmail, ApiError> {
    let caller = super::caller()?;
    super::backend()?.notice_email(&caller).await
}

/// Sets the caller's address for notification e-mail; `None` removes it.
#[leptos::server(prefix = "/api", endpoint = "notifications/email/set", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn set_notice_email(email: Option<String>) -> Result<NoticeEmail, ApiError> {
    let caller = super::caller()?;
    super::backend()?.set_notice_email(&caller, email).await
}
