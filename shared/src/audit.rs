//! Audit events: what the log records, its canonical bytes, and the check an
//! auditor runs over the whole log.
//!
//! An event says who (a user id), from which session, what kind, whose data
//! and which item, and when; never a name, a key or content, so the log can be
//! shown to auditors and admins who may read no record. Its canonical encoding
//! is `bind("medvault/v1/audit/event", [...])` (PROTOCOL.md section 12), chained
//! by [`crate::crypto::audit_chain::link`]. [`ChainVerifier`] is the same code
//! on the server's tests and in the auditor's browser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{
    audit_chain::{self, ChainHead, GENESIS},
    b64,
    context::{self, Encoder},
    sign::{Signed, VerifyingKey},
};
use crate::model::Id;

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
}

impl EventKind {
    /// Every kind, for tests and for filters in the app.
    pub const ALL: [EventKind; 46] = [
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

/// One stored event as the auditor fetches it: its canonical bytes and the
/// chain hash the server recorded after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the chain.
    pub seq: u64,
    /// [`AuditEvent::encode`] of the event.
    #[serde(with = "b64::vec")]
    pub event: Vec<u8>,
    /// `h_seq`, the recorded chain hash.
    #[serde(with = "b64::array")]
    pub hash: [u8; 32],
}

/// Why verification stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// An event is missing or out of order (the sequence jumps).
    Gap,
    /// The bytes are not a canonical event, or name another position.
    Malformed,
    /// The recorded hash is not the link recomputed from the event and the
    /// previous hash: the event (or one before it) was changed.
    HashMismatch,
    /// A signed head's signature is not the server's audit key's.
    BadHeadSignature,
    /// The chain as fetched does not reach the hash a signed head vouches for
    /// at this position: events up to here were rewritten.
    HeadMismatch,
    /// A signed head covers events beyond the end of the log: events were
    /// dropped from the end.
    Truncated,
}

/// The first place where the log fails to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The sequence number of the first event that does not verify (for a bad
    /// head signature, the head's sequence number).
    pub seq: u64,
    /// What is wrong there.
    pub reason: BreakReason,
}

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Events checked, from 1.
    pub events: u64,
    /// Signed heads checked (every one matched the chain).
    pub heads: usize,
    /// The last hash, `h_events`.
    pub last_hash: [u8; 32],
}

/// Checks the whole log page by page, so the browser can show progress: every
/// link from the start, and every signed head against the hash at its position.
pub struct ChainVerifier {
    prev: [u8; 32],
    seq: u64,
    heads: BTreeMap<u64, [u8; 32]>,
}

impl ChainVerifier {
    /// Starts a check against these signed heads. Every head must be signed by
    /// `key` (the server's audit key, fetched from `GET /api/audit/key` and
    /// compared out of band) and heads must not contradict each other.
    pub fn new(key: &VerifyingKey, heads: &[Signed<ChainHead>]) -> Result<Self, ChainBreak> {
        let mut map = BTreeMap::new();
        for head in heads {
            let h = head.verify(key).map_err(|_| ChainBreak {
                seq: head.value.seq,
                reason: BreakReason::BadHeadSignature,
            })?;
            if map.insert(h.seq, h.hash).is_some_and(|old| old != h.hash) {
                return Err(ChainBreak {
                    seq: h.seq,
                    reason: BreakReason::HeadMismatch,
                });
            }
        }
        Ok(ChainVerifier {
            prev: GENESIS,
            seq: 0,
            heads: map,
        })
    }

    /// Events verified so far.
    pub fn verified(&self) -> u64 {
        self.seq
    }

    /// Checks the next entries, which must follow the ones fed before.
    pub fn feed(&mut self, entries: &[LogEntry]) -> Result<(), ChainBreak> {
        for entry in entries {
            let expected = self.seq.saturating_add(1);
            let fail = |reason| ChainBreak {
                seq: expected,
                reason,
            };
            if entry.seq != expected {
                return Err(fail(BreakReason::Gap));
            }
            match AuditEvent::decode(&entry.event) {
                Some(e) if e.seq == expected => {}
                _ => return Err(fail(BreakReason::Malformed)),
            }
            let link = audit_chain::Link {
                seq: entry.seq,
                event: &entry.event,
                hash: entry.hash,
            };
            let hash = audit_chain::verify_run(&self.prev, self.seq, &[link])
                .map_err(|_| fail(BreakReason::HashMismatch))?;
            if self.heads.get(&expected).is_some_and(|h| *h != hash) {
                return Err(fail(BreakReason::HeadMismatch));
            }
            self.prev = hash;
            self.seq = expected;
        }
        Ok(())
    }

    /// Ends the check: fails if a signed head lies beyond the last event.
    pub fn finish(self) -> Result<Verified, ChainBreak> {
        if let Some((&beyond, _)) = self.heads.range(self.seq.saturating_add(1)..).next() {
            return Err(ChainBreak {
                seq: self.seq.saturating_add(1).min(beyond),
                reason: BreakReason::Truncated,
            });
        }
        Ok(Verified {
            events: self.seq,
            heads: self.heads.len(),
            last_hash: self.prev,
        })
    }
}

/// Verifies a whole log at once (see [`ChainVerifier`]).
pub fn verify_log(
    key: &VerifyingKey,
    heads: &[Signed<ChainHead>],
    entries: &[LogEntry],
) -> Result<Verified, ChainBreak> {
    let mut v = ChainVerifier::new(key, heads)?;
    v.feed(entries)?;
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{
        audit_chain::link,
        sign::{sign, SigningKey},
    };

    fn event(seq: u64, kind: EventKind) -> AuditEvent {
        AuditEvent {
            seq,
            at: 1_750_000_000 + seq as i64,
            actor: Some([1; 16]),
            session: if seq.is_multiple_of(2) {
                Some([2; 16])
            } else {
                None
            },
            kind,
            subject: Some([3; 16]),
            item: None,
        }
    }

    fn log(n: u64) -> Vec<LogEntry> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let bytes =
                    event(seq, EventKind::ALL[seq as usize % EventKind::ALL.len()]).encode();
                prev = link(&prev, seq, &bytes);
                LogEntry {
                    seq,
                    event: bytes,
                    hash: prev,
                }
            })
            .collect()
    }

    fn head(key: &SigningKey, entries: &[LogEntry], seq: u64) -> Signed<ChainHead> {
        sign(
            key,
            ChainHead {
                seq,
                hash: entries[seq as usize - 1].hash,
                signed_at: 5,
            },
        )
    }

    #[test]
    fn codes_are_distinct_and_round_trip() {
        for (i, a) in EventKind::ALL.iter().enumerate() {
            assert_eq!(EventKind::from_code(a.code()), Some(*a));
            for b in &EventKind::ALL[i + 1..] {
                assert_ne!(a.code(), b.code());
            }
        }
        assert_eq!(EventKind::from_code(0), None);
    }

    #[test]
    fn event_encoding_round_trips_and_is_bind() {
        let e = event(2, EventKind::SignIn);
        let bytes = e.encode();
        assert_eq!(AuditEvent::decode(&bytes), Some(e.clone()));
        let expected = context::bind(
            context::AUDIT_EVENT,
            &[
                &2u64.to_be_bytes(),
                &e.at.to_be_bytes(),
                &[1; 16],
                &[2; 16],
                &1u16.to_be_bytes(),
                &[3; 16],
                &[],
            ],
        );
        assert_eq!(bytes, expected);
    }

    #[test]
    fn fail_decode_of_non_canonical_bytes() {
        let bytes = event(1, EventKind::SignOut).encode();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(AuditEvent::decode(&trailing), None);
        assert_eq!(AuditEvent::decode(&bytes[..bytes.len() - 1]), None);
        let other_label = context::bind(context::AUDIT_LINK, &[&1u64.to_be_bytes()]);
        assert_eq!(AuditEvent::decode(&other_label), None);
        let mut short_id = event(1, EventKind::SignOut);
        short_id.actor = None;
        let mut b = short_id.encode();
        // Make the (empty) actor field claim 1 byte: the lengths no longer fit.
        let label_len = 4 + context::AUDIT_EVENT.len();
        let actor_at = label_len + 12 + 12;
        b[actor_at + 3] = 1;
        assert_eq!(AuditEvent::decode(&b), None);
    }

    #[test]
    fn whole_log_verifies_with_heads() {
        let key = SigningKey::generate().unwrap();
        let entries = log(20);
        let heads = [head(&key, &entries, 7), head(&key, &entries, 20)];
        let v = verify_log(&key.verifying_key(), &heads, &entries).unwrap();
        assert_eq!((v.events, v.heads, v.last_hash), (20, 2, entries[19].hash));
        // In pages, too.
        let mut verifier = ChainVerifier::new(&key.verifying_key(), &heads).unwrap();
        for page in entries.chunks(6) {
            verifier.feed(page).unwrap();
        }
        assert_eq!(verifier.finish().unwrap().events, 20);
    }

    #[test]
    fn fail_edited_event_named_at_its_place() {
        let key = SigningKey::generate().unwrap();
        let mut entries = log(10);
        let heads = [head(&key, &entries, 10)];
        entries[4].event = event(5, EventKind::AccountDisabled).encode();
        let err = verify_log(&key.verifying_key(), &heads, &entries).unwrap_err();
        assert_eq!(
            err,
            ChainBreak {
                seq: 5,
                reason: BreakReason::HashMismatch
            }
        );
    }

    #[test]
    fn fail_rewritten_chain_caught_by_the_head() {
        let key = SigningKey::generate().unwrap();
        let entries = log(10);
        let heads = [head(&key, &entries, 8)];
        // Rebuild every hash after a changed event 3: the links agree, the head not.
        let mut forged = entries.clone();
        forged[2].event = event(3, EventKind::SignOut).encode();
        let mut prev = forged[1].hash;
        for e in &mut forged[2..] {
            e.hash = link(&prev, e.seq, &e.event);
            prev = e.hash;
        }
        let err = verify_log(&key.verifying_key(), &heads, &forged).unwrap_err();
        assert_eq!(err.seq, 8);
        assert_eq!(err.reason, BreakReason::HeadMismatch);
    }

    #[test]
    fn fail_dropped_tail_behind_a_head() {
        let key = SigningKey::generate().unwrap();
        let entries = log(10);
        let heads = [head(&key, &entries, 9)];
        let err = verify_log(&key.verifying_key(), &heads, &entries[..7]).unwrap_err();
        assert_eq!(
            err,
            ChainBreak {
                seq: 8,
                reason: BreakReason::Truncated
            }
        );
    }

    #[test]
    fn fail_gap_foreign_head_and_misplaced_event() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let mut entries = log(6);
        let foreign = [head(&other, &entries, 3)];
        assert_eq!(
            verify_log(&key.verifying_key(), &foreign, &entries)
                .unwrap_err()
                .reason,
            BreakReason::BadHeadSignature
        );
        let mut gap = entries.clone();
        gap.remove(2);
        assert_eq!(
            verify_log(&key.verifying_key(), &[], &gap).unwrap_err(),
            ChainBreak {
                seq: 3,
                reason: BreakReason::Gap
            }
        );
        // An event whose bytes claim another position.
        entries[1].event = event(9, EventKind::SignIn).encode();
        entries[1].hash = link(&entries[0].hash, 2, &entries[1].event);
        assert_eq!(
            verify_log(&key.verifying_key(), &[], &entries)
                .unwrap_err()
                .reason,
            BreakReason::Malformed
        );
    }
}
