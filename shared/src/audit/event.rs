//! The event: its closed set of kinds with stable codes, its fields, and its
//! canonical bytes (what the chain hashes).

use serde::{Deserialize, Serialize};

use crate::{
    crypto::{
        b64,
        context::{
            Encoder, {self},
        },
    },
    model::Id,
};

/// Length of a session's public id in an event (the first 16 bytes of the
/// session token's SHA-256, as the session list shows it).
pub const SESSION_ID_LEN: usize = 16;

/// What happened. A closed set with stable codes: a code is never reused or
/// renumbered, because old events are hashed with it.
///
/// Codes by area: 1–99 accounts, 100–199 admin, 200–299 records, 300–399
/// sharing, 400–499 emergency access (the last three come with those features).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A sign-in completed (after the second factor, if any).
    SignIn,
    /// A sign-in was refused: wrong password (KE3) or wrong second-factor code.
    SignInFailed,
    /// A session ended by signing out.
    SignOut,
    /// Every session of the account ended at its owner's request.
    SignOutEverywhere,
    /// One session ended from the session list.
    SessionRevoked,
    /// The password changed (other sessions ended).
    PasswordChanged,
    /// The account was recovered with its recovery code.
    AccountRecovered,
    /// A recovery was refused (wrong recovery code).
    RecoveryFailed,
    /// A TOTP second factor was switched on.
    SecondFactorOn,
    /// The second factor was switched off.
    SecondFactorOff,
    /// An account was created.
    AccountCreated,
    /// An admin made an invite.
    InviteCreated,
    /// An admin certified a doctor's keys.
    DoctorVerified,
    /// An admin disabled an account.
    AccountDisabled,
    /// An admin enabled an account again.
    AccountEnabled,
    /// A patient created their record (item: the root).
    RecordCreated,
    /// A folder or entry was added (item: the node).
    NodeCreated,
    /// A file version was stored: a new file or a new version (item: the file).
    FileWritten,
    /// A file version's content was read (its first chunk served; item: the file).
    FileRead,
    /// A node's metadata changed: renamed, described, edited (item: the node).
    NodeUpdated,
    /// A node moved to another folder (item: the node).
    NodeMoved,
    /// A node went to the trash (item: the node).
    NodeTrashed,
    /// A node came back from the trash (item: the node).
    NodeRestored,
    /// The trash was emptied: nodes and their content deleted for good.
    TrashEmptied,
    /// An older version of a file became current again (item: the file).
    VersionRestored,
    /// A patient shared a folder with a doctor (actor: the patient, item: the folder).
    GrantCreated,
    /// A patient removed a doctor's access (item: the folder).
    GrantRevoked,
    /// A doctor asked a patient for access (actor: the doctor, subject: the patient).
    AccessRequested,
    /// A patient approved a request with a grant (item: the folder).
    AccessApproved,
    /// A patient said no to a request.
    AccessDenied,
    /// A doctor opened what a grant shares (actor: the doctor, item: the folder).
    SharedViewed,
    /// The keys under a folder were replaced after a revocation (item: the folder).
    KeysRotated,
    /// A password change refused: the current password was wrong (actor and
    /// subject the account).
    PasswordChangeFailed,
    /// Turning the second factor on or off refused: a wrong code.
    SecondFactorChangeFailed,
    /// A session ended because it was idle too long or reached its lifetime
    /// (noticed at its next use; `session` the ended session).
    SessionExpired,
    /// The owner, or a doctor through a grant, fetched the list of items of a
    /// record (the owner's tree: `item` the root).
    RecordViewed,
    /// Someone fetched a file's list of versions (`item` the file).
    VersionsViewed,
    /// A grant reached its end date and stopped (`actor` none, `subject` the
    /// patient, `item` the shared folder).
    GrantExpired,
    /// A patient named an emergency contact (actor: the patient, item: the record's top folder).
    EmergencyContactNamed,
    /// An emergency contact asked to open the record (actor: the contact, subject: the patient).
    EmergencyRequested,
    /// The patient refused an emergency request before it opened.
    EmergencyRefused,
    /// An emergency contact opened the record after the waiting period.
    EmergencyOpened,
    /// A doctor (or emergency contact) declined a grant made to them: it
    /// ended and its wrapped key was deleted (actor: the doctor, subject: the
    /// patient, item: the shared folder).
    GrantDeclined,
    /// The account's recovery code was replaced by a new one (the old one no
    /// longer works; actor and subject the account).
    RecoveryCodeReplaced,
    /// Replacing the recovery code was refused: the password proof was wrong.
    RecoveryCodeReplaceFailed,
    /// An admin revoked an open invite (item: the invite's id, as in
    /// `invite_created`).
    InviteRevoked,
    /// An admin stored their certificate from the installation's org key.
    AdminCertified,
    /// A patient signed again a grant made before grants signed their key's
    /// hash, over a freshly wrapped key (actor: the patient, item: the
    /// shared folder).
    GrantRenewed,
    /// A patient gave a share a new end date or permission (actor and
    /// subject: the patient, item: the shared folder).
    GrantChanged,
    /// A user set, changed or removed the address for notification e-mail
    /// (actor and subject: the user; the address is not in the log).
    NoticeEmailChanged,
    /// A patient saved their profile (display name, date of birth) or
    /// sealed it again for their shares (actor and subject: the patient,
    /// item: the record's root; nothing of the profile is in the log).
    ProfileChanged,
    /// A patient deleted their account, after proving the password: their
    /// record, shares and sessions are gone (actor and subject: the
    /// account's id, which no account has any more).
    AccountDeleted,
    /// An account deletion whose password proof was wrong or never
    /// finished.
    AccountDeleteFailed,
    /// An admin gave an account another role (actor: the admin, subject:
    /// the account; the roles are not in the log, the directory entry the
    /// account signs next says the new one).
    RoleChanged,
    /// A user signed their directory entry again for the role an admin gave
    /// them (actor and subject: the user).
    KeyEntryRenewed,
}

impl EventKind {
    /// Every kind, for tests and for filters in the app.
    pub const ALL: [EventKind; 55] = [
        EventKind::SignIn,
        EventKind::SignInFailed,
        EventKind::SignOut,
        EventKind::SignOutEverywhere,
        EventKind::SessionRevoked,
        EventKind::PasswordChanged,
        EventKind::AccountRecovered,
        EventKind::RecoveryFailed,
        EventKind::SecondFactorOn,
        EventKind::SecondFactorOff,
        EventKind::AccountCreated,
        EventKind::InviteCreated,
        EventKind::DoctorVerified,
        EventKind::AccountDisabled,
        EventKind::AccountEnabled,
        EventKind::RecordCreated,
        EventKind::NodeCreated,
        EventKind::FileWritten,
        EventKind::FileRead,
        EventKind::NodeUpdated,
        EventKind::NodeMoved,
        EventKind::NodeTrashed,
        EventKind::NodeRestored,
        EventKind::TrashEmptied,
        EventKind::VersionRestored,
        EventKind::GrantCreated,
        EventKind::GrantRevoked,
        EventKind::AccessRequested,
        EventKind::AccessApproved,
        EventKind::AccessDenied,
        EventKind::SharedViewed,
        EventKind::KeysRotated,
        EventKind::EmergencyContactNamed,
        EventKind::EmergencyRequested,
        EventKind::EmergencyRefused,
        EventKind::EmergencyOpened,
        EventKind::PasswordChangeFailed,
        EventKind::SecondFactorChangeFailed,
        EventKind::SessionExpired,
        EventKind::RecordViewed,
        EventKind::VersionsViewed,
        EventKind::GrantExpired,
        EventKind::GrantDeclined,
        EventKind::RecoveryCodeReplaced,
        EventKind::RecoveryCodeReplaceFailed,
        EventKind::InviteRevoked,
        EventKind::AdminCertified,
        EventKind::GrantRenewed,
        EventKind::GrantChanged,
        EventKind::NoticeEmailChanged,
        EventKind::ProfileChanged,
        EventKind::AccountDeleted,
        EventKind::AccountDeleteFailed,
        EventKind::RoleChanged,
        EventKind::KeyEntryRenewed,
    ];

    /// The stable code in the canonical encoding.
    pub const fn code(self) -> u16 {
        match self {
            EventKind::SignIn => 1,
            EventKind::SignInFailed => 2,
            EventKind::SignOut => 3,
            EventKind::SignOutEverywhere => 4,
            EventKind::SessionRevoked => 5,
            EventKind::PasswordChanged => 6,
            EventKind::AccountRecovered => 7,
            EventKind::RecoveryFailed => 8,
            EventKind::SecondFactorOn => 9,
            EventKind::SecondFactorOff => 10,
            EventKind::AccountCreated => 11,
            EventKind::InviteCreated => 100,
            EventKind::DoctorVerified => 101,
            EventKind::AccountDisabled => 102,
            EventKind::AccountEnabled => 103,
            EventKind::RecordCreated => 200,
            EventKind::NodeCreated => 201,
            EventKind::FileWritten => 202,
            EventKind::FileRead => 203,
            EventKind::NodeUpdated => 204,
            EventKind::NodeMoved => 205,
            EventKind::NodeTrashed => 206,
            EventKind::NodeRestored => 207,
            EventKind::TrashEmptied => 208,
            EventKind::VersionRestored => 209,
            EventKind::GrantCreated => 300,
            EventKind::GrantRevoked => 301,
            EventKind::AccessRequested => 302,
            EventKind::AccessApproved => 303,
            EventKind::AccessDenied => 304,
            EventKind::SharedViewed => 305,
            EventKind::KeysRotated => 306,
            EventKind::EmergencyContactNamed => 400,
            EventKind::EmergencyRequested => 401,
            EventKind::EmergencyRefused => 402,
            EventKind::EmergencyOpened => 403,
            EventKind::PasswordChangeFailed => 12,
            EventKind::SecondFactorChangeFailed => 13,
            EventKind::SessionExpired => 14,
            EventKind::RecordViewed => 210,
            EventKind::VersionsViewed => 211,
            EventKind::GrantExpired => 307,
            EventKind::GrantDeclined => 308,
            EventKind::RecoveryCodeReplaced => 15,
            EventKind::RecoveryCodeReplaceFailed => 16,
            EventKind::InviteRevoked => 104,
            EventKind::AdminCertified => 105,
            EventKind::GrantRenewed => 309,
            EventKind::GrantChanged => 310,
            EventKind::NoticeEmailChanged => 17,
            EventKind::ProfileChanged => 212,
            EventKind::AccountDeleted => 18,
            EventKind::AccountDeleteFailed => 19,
            EventKind::RoleChanged => 106,
            EventKind::KeyEntryRenewed => 20,
        }
    }

    /// What happened, in a few words people read (history pages, CSV).
    pub fn label(self) -> &'static str {
        match self {
            EventKind::SignIn => "Signed in",
            EventKind::SignInFailed => "Sign-in refused",
            EventKind::SignOut => "Signed out",
            EventKind::SignOutEverywhere => "Signed out everywhere",
            EventKind::SessionRevoked => "Ended a session",
            EventKind::PasswordChanged => "Changed the password",
            EventKind::AccountRecovered => "Recovered the account",
            EventKind::RecoveryFailed => "Recovery refused",
            EventKind::SecondFactorOn => "Turned on the second factor",
            EventKind::SecondFactorOff => "Turned off the second factor",
            EventKind::AccountCreated => "Created the account",
            EventKind::InviteCreated => "Created an invite",
            EventKind::DoctorVerified => "Verified a doctor",
            EventKind::AccountDisabled => "Disabled an account",
            EventKind::AccountEnabled => "Enabled an account",
            EventKind::RecordCreated => "Created the record",
            EventKind::NodeCreated => "Added an item",
            EventKind::FileWritten => "Uploaded a file",
            EventKind::FileRead => "Opened a file",
            EventKind::NodeUpdated => "Changed an item's details",
            EventKind::NodeMoved => "Moved an item",
            EventKind::NodeTrashed => "Moved an item to the trash",
            EventKind::NodeRestored => "Restored an item from the trash",
            EventKind::TrashEmptied => "Emptied the trash",
            EventKind::VersionRestored => "Restored an earlier version",
            EventKind::GrantCreated => "Shared with a doctor",
            EventKind::GrantRevoked => "Removed a doctor's access",
            EventKind::AccessRequested => "Asked for access",
            EventKind::AccessApproved => "Approved a request for access",
            EventKind::AccessDenied => "Denied a request for access",
            EventKind::SharedViewed => "Opened the shared record",
            EventKind::KeysRotated => "Replaced the keys of a folder",
            EventKind::EmergencyContactNamed => "Named an emergency contact",
            EventKind::EmergencyRequested => "Asked for emergency access",
            EventKind::EmergencyRefused => "Refused emergency access",
            EventKind::EmergencyOpened => "Opened the record in an emergency",
            EventKind::PasswordChangeFailed => "Password change refused",
            EventKind::SecondFactorChangeFailed => "Second-factor change refused",
            EventKind::SessionExpired => "Session expired",
            EventKind::RecordViewed => "Viewed the list of items",
            EventKind::VersionsViewed => "Viewed a file's versions",
            EventKind::GrantExpired => "A share reached its end date",
            EventKind::GrantDeclined => "Declined a share",
            EventKind::RecoveryCodeReplaced => "Made a new recovery code",
            EventKind::RecoveryCodeReplaceFailed => "New recovery code refused",
            EventKind::InviteRevoked => "Revoked an invite",
            EventKind::AdminCertified => "Stored the installation's certificate",
            EventKind::GrantRenewed => "Signed an older share again",
            EventKind::GrantChanged => "Changed a share's end date or permission",
            EventKind::NoticeEmailChanged => "Changed the address for notification e-mail",
            EventKind::ProfileChanged => "Changed the profile",
            EventKind::AccountDeleted => "Deleted the account",
            EventKind::AccountDeleteFailed => "Account deletion refused",
            EventKind::RoleChanged => "Changed an account's role",
            EventKind::KeyEntryRenewed => "Signed the directory entry for a new role",
        }
    }

    /// The kind with this code, if it is one.
    pub fn from_code(code: u16) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether the admin's "system events" list shows it: sign-ins, their
    /// failures and admin actions, never access to a record.
    pub const fn is_system(self) -> bool {
        self.code() < 200
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When it happened, Unix seconds (the server's clock).
    pub at: i64,
    /// Who did it; `None` when nobody was identified (a failed sign-in under an
    /// unknown username).
    #[serde(with = "b64::option_array")]
    pub actor: Option<Id>,
    /// The session it came from, if any (its public id).
    #[serde(with = "b64::option_array")]
    pub session: Option<[u8; SESSION_ID_LEN]>,
    /// What happened.
    pub kind: EventKind,
    /// Whose account or data it concerns: the patient's history lists it.
    #[serde(with = "b64::option_array")]
    pub subject: Option<Id>,
    /// The item concerned (a record node, a grant), if any.
    #[serde(with = "b64::option_array")]
    pub item: Option<Id>,
}

fn opt(out: &mut Encoder, value: Option<&[u8]>) {
    out.bytes(value.unwrap_or(&[]));
}

impl AuditEvent {
    /// The canonical bytes that the chain hashes: `bind(AUDIT_EVENT, [u64 seq,
    /// i64 at, actor, session, u16 kind, subject, item])`, an absent optional
    /// field being an empty field.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Encoder::new(context::AUDIT_EVENT);
        out.u64(self.seq).i64(self.at);
        opt(&mut out, self.actor.as_ref().map(|a| &a[..]));
        opt(&mut out, self.session.as_ref().map(|s| &s[..]));
        out.bytes(&self.kind.code().to_be_bytes());
        opt(&mut out, self.subject.as_ref().map(|s| &s[..]));
        opt(&mut out, self.item.as_ref().map(|s| &s[..]));
        out.finish()
    }

    /// Reads canonical bytes back; `None` unless they are exactly an encoding
    /// [`AuditEvent::encode`] makes (so one event has one encoding).
    pub fn decode(bytes: &[u8]) -> Option<AuditEvent> {
        let mut fields = Fields(bytes);
        if fields.next()? != context::AUDIT_EVENT.as_bytes() {
            return None;
        }
        let seq = u64::from_be_bytes(fields.next()?.try_into().ok()?);
        let at = i64::from_be_bytes(fields.next()?.try_into().ok()?);
        let actor = fields.optional()?;
        let session = fields.optional()?;
        let kind = EventKind::from_code(u16::from_be_bytes(fields.next()?.try_into().ok()?))?;
        let subject = fields.optional()?;
        let item = fields.optional()?;
        if !fields.0.is_empty() {
            return None;
        }
        Some(AuditEvent {
            seq,
            at,
            actor,
            session,
            kind,
            subject,
            item,
        })
    }
}

/// Reads length-prefixed fields of a `bind` encoding.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        if rest.len() < len {
            return None;
        }
        let (field, rest) = rest.split_at(len);
        self.0 = rest;
        Some(field)
    }

    /// An empty field (absent) or exactly `N` bytes.
    fn optional<const N: usize>(&mut self) -> Option<Option<[u8; N]>> {
        let field = self.next()?;
        if field.is_empty() {
            Some(None)
        } else {
            Some(Some(field.try_into().ok()?))
        }
    }
}
