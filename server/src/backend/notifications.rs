//! In-app notifications (`shared::api::notifications`): one stored row per
//! recipient, written in the same batch as the change it announces, so a
//! notice exists exactly when its change does. Shares ending soon are not
//! stored: they are read from the caller's grants on every listing.
//!
//! Grants keyspace (beside the sharing rows, `sharing::layout`):
//!
//! | key                                  | value |
//! |--------------------------------------|-------|
//! | `9 ‖ recipient ‖ u64 at ‖ notice id` | [`StoredNotice`] |
//! | `10 ‖ recipient`                     | i64: read up to this second |
//!
//! Neither tag changes who may read what, so the access cache ignores them
//! (`access_cache::changes_access`).

use serde::{Deserialize, Serialize};
use shared::{
    api::{
        notifications::{
            Notice, NoticeEmail, NoticeKind, Notices, NotificationsBackend, ENDING_WITHIN_SECS,
            MAX_LISTED,
        },
        ApiError, Caller,
    },
    audit::EventKind,
    crypto::rng,
    model::Id,
};

use super::{records::Names, store_error, ServerBackend};
use crate::store::{codec, keys::Key, Batch, Space};

/// The Grants keyspace tags of notices and read marks.
pub const NOTICE_TAGS: [u8; 2] = [9, 10];

/// Most notices kept per person; older ones go when they mark them read.
const MAX_KEPT: usize = 500;

/// A stored notice (the recipient is in its key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredNotice {
    /// What it is about.
    pub kind: NoticeKind,
    /// When, Unix seconds.
    pub at: i64,
    /// Who did it.
    pub other: Id,
    /// The grant involved.
    pub grant_id: Option<Id>,
    /// The node involved.
    pub node_id: Option<Id>,
}

pub(crate) fn notice_prefix(recipient: &Id) -> Vec<u8> {
    Key::new().u8(9).fixed(recipient).finish()
}

fn notice_key(recipient: &Id, at: i64, id: &Id) -> Vec<u8> {
    Key::new()
        .u8(9)
        .fixed(recipient)
        .u64(u64::try_from(at).unwrap_or(0))
        .fixed(id)
        .finish()
}

pub(crate) fn read_key(recipient: &Id) -> Vec<u8> {
    Key::new().u8(10).fixed(recipient).finish()
}

/// Adds a notice for `recipient` to `batch`: what `other` did, now.
pub(crate) fn notify(
    batch: &mut Batch,
    recipient: &Id,
    notice: StoredNotice,
) -> Result<(), ApiError> {
    if *recipient == notice.other {
        return Ok(());
    }
    let id: Id = rng::bytes::<16>().map_err(|_| ApiError::internal())?;
    let value = codec::encode(&notice).map_err(store_error)?;
    batch.put(Space::Grants, notice_key(recipient, notice.at, &id), value);
    Ok(())
}

impl StoredNotice {
    /// A notice of `kind` from `other` at `at`, about nothing else.
    pub(crate) fn new(kind: NoticeKind, other: &Id, at: i64) -> StoredNotice {
        StoredNotice {
            kind,
            at,
            other: *other,
            grant_id: None,
            node_id: None,
        }
    }

    /// With the grant involved.
    pub(crate) fn grant(mut self, grant: &Id) -> StoredNotice {
        self.grant_id = Some(*grant);
        self
    }

    /// With the node involved.
    pub(crate) fn node(mut self, node: &Id) -> StoredNotice {
        self.node_id = Some(*node);
        self
    }
}

impl ServerBackend {
    /// E-mails `user` that there is a new notification, if they gave an
    /// address and the server has a relay (in a task of its own: see
    /// [`super::mailer`]). Called after the notice is stored.
    pub(crate) async fn mail_notice(&self, user: &Id) {
        let Some(mailer) = &self.config.mailer else {
            return;
        };
        if let Ok(Some(u)) = self.user_by_id(user).await {
            if let (Some(to), false) = (u.notify_email, u.disabled) {
                mailer.send_later(*user, to);
            }
        }
    }

    /// An emergency opening of `grant` by `contact`, noticed to `patient`
    /// unless one was since `since` (the contact's request).
    pub(crate) async fn notify_once(
        &self,
        patient: &Id,
        contact: &Id,
        grant: &Id,
        since: i64,
    ) -> Result<(), ApiError> {
        let told = self
            .stored_notices(patient)
            .await?
            .into_iter()
            .any(|(_, n)| {
                n.kind == NoticeKind::EmergencyOpened && n.grant_id == Some(*grant) && n.at >= since
            });
        if told {
            return Ok(());
        }
        let mut batch = Batch::new();
        let notice =
            StoredNotice::new(NoticeKind::EmergencyOpened, contact, self.now()).grant(grant);
        notify(&mut batch, patient, notice)?;
        self.store.apply(batch).await.map_err(store_error)?;
        self.mail_notice(patient).await;
        Ok(())
    }

    /// The stored notices of `me`, oldest first, with their keys.
    async fn stored_notices(&self, me: &Id) -> Result<Vec<(Vec<u8>, StoredNotice)>, ApiError> {
        let rows = self
            .store
            .scan_prefix(Space::Grants, &notice_prefix(me), None, MAX_KEPT * 4)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(k, v)| Ok((k, codec::decode(&v).map_err(store_error)?)))
            .collect()
    }

    async fn read_up_to(&self, me: &Id) -> Result<i64, ApiError> {
        Ok(self
            .store
            .get(Space::Grants, &read_key(me))
            .await
            .map_err(store_error)?
            .and_then(|v| codec::decode::<i64>(&v).ok())
            .unwrap_or(i64::MIN))
    }

    async fn list_notices(
        &self,
        me: &Id,
        session: &super::sessions::Session,
    ) -> Result<Notices, ApiError> {
        let read = self.read_up_to(me).await?;
        let stored = self.stored_notices(me).await?;
        let mut names = Names::new();
        let now = self.now();
        let mut notices = Vec::new();
        for g in self
            .grants_ending(session, now, now + ENDING_WITHIN_SECS)
            .await?
        {
            let other = if g.patient_id == *me {
                g.doctor_id
            } else {
                g.patient_id
            };
            notices.push(Notice {
                id: g.grant_id,
                kind: NoticeKind::ShareEnding,
                at: g.expires_at.unwrap_or(now),
                other: self.author_name(&other, &mut names).await?,
                grant_id: Some(g.grant_id),
                node_id: None,
                unread: true,
            });
        }
        notices.sort_by_key(|n| n.at);
        let ending = notices.len();
        let unread_stored = stored.iter().filter(|(_, n)| n.at > read).count();
        for (key, n) in stored.into_iter().rev().take(MAX_LISTED) {
            let id: Id = key
                .get(key.len().saturating_sub(16)..)
                .and_then(|t| t.try_into().ok())
                .unwrap_or([0; 16]);
            notices.push(Notice {
                id,
                kind: n.kind,
                at: n.at,
                other: self.author_name(&n.other, &mut names).await?,
                grant_id: n.grant_id,
                node_id: n.node_id,
                unread: n.at > read,
            });
        }
        Ok(Notices {
            notices,
            unread: u32::try_from(ending + unread_stored).unwrap_or(u32::MAX),
        })
    }
}

#[async_trait::async_trait]
impl NotificationsBackend for ServerBackend {
    async fn notices(&self, caller: &Caller) -> Result<Notices, ApiError> {
        let s = self.require_session(caller).await?;
        self.list_notices(&s.user.id, &s).await
    }

    async fn mark_read(&self, caller: &Caller) -> Result<Notices, ApiError> {
        let s = self.require_session(caller).await?;
        let me = s.user.id;
        let mut batch = Batch::new();
        batch.put(
            Space::Grants,
            read_key(&me),
            codec::encode(&self.now()).map_err(store_error)?,
        );
        // The oldest beyond what is kept go now.
        let stored = self.stored_notices(&me).await?;
        for (key, _) in stored.iter().take(stored.len().saturating_sub(MAX_KEPT)) {
            batch.delete(Space::Grants, key.clone());
        }
        self.store.apply(batch).await.map_err(store_error)?;
        self.list_notices(&me, &s).await
    }

    async fn notice_email(&self, caller: &Caller) -> Result<NoticeEmail, ApiError> {
        let s = self.require_session(caller).await?;
        Ok(NoticeEmail {
            email: s.user.notify_email.clone(),
            available: self.config.mailer.is_some(),
        })
    }

    async fn set_notice_email(
        &self,
        caller: &Caller,
        email: Option<String>,
    ) -> Result<NoticeEmail, ApiError> {
        let s = self.require_session(caller).await?;
        let email = match email {
            Some(text) => {
                if self.config.mailer.is_none() {
                    return Err(ApiError::bad_request(
                        "This server does not send e-mail, so no address is kept. Ask your administrator.",
                    ));
                }
                Some(super::mailer::check_address(&text).map_err(ApiError::bad_request)?)
            }
            None => None,
        };
        let draft =
            super::audit::Draft::own(EventKind::NoticeEmailChanged, &s.user.id).session(&s.hash);
        let updated = self
            .update_user(&s.user.id, draft, |user| {
                user.notify_email = email.clone();
                Ok(Vec::new())
            })
            .await?;
        Ok(NoticeEmail {
            email: updated.notify_email,
            available: self.config.mailer.is_some(),
        })
    }
}
