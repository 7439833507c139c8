//! Sign-up, sign-in, sessions, second factor, password change and recovery.
//!
//! Every second message finds its first in [`super::pending`], which hands it
//! out once, so a replayed or reordered OPAQUE message gets a 4xx. A wrong
//! password and an unknown username get the same answer and the same kind of
//! work (a fake KE2 for unknown users), and both count against the throttle.
//!
//! The throttle admits (and counts) each attempt when it starts, since an
//! OPAQUE client knows after KE2 whether its guess was right; a valid KE3 or
//! recovery proof takes its own attempt back. The steps that finish an
//! admitted attempt are therefore not refused by the throttle's delay. A start
//! that is never finished is recorded in the audit log when its pending state
//! expires or is evicted ([`super::ServerBackend::log_abandoned`]).
//!
//! One file per flow, each implementing the trait of the same name in
//! `shared::api::account`: `signup`, `login` (with the second factor's step),
//! `session` (the session list and signing out), `password`, `second_factor`,
//! `recovery`, `recovery_code`, `delete` and `role` (a new role's directory
//! entry). `password_proof` is the fresh proof of the password that several
//! of them need; `checks` holds what they all share, and `abandoned` logs
//! attempts never finished.

mod abandoned;
mod checks;
pub(crate) mod delete;
mod login;
mod password;
mod password_proof;
pub mod pins;
mod recovery;
mod recovery_code;
mod role;
mod second_factor;
mod session;
mod signup;
