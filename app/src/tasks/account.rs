//! The account's flows in this browser, without views: sign-up, sign-in with
//! the optional second factor, recovery, a password change, a new recovery
//! code and turning the second factor on. Each runs the OPAQUE and key steps
//! of `shared::client` between its server calls, so the pages only collect
//! what was typed; a failure comes back as the sentence to show.

use shared::{
    account::{check_password, Username},
    api::account::{LoginOutcome, SecondFactorRequest, SessionInfo, SessionsEnded, SignedIn},
    client::{
        open_keyring, renewed_key_entry, Login, PasswordChange, Recovery, RecoveryCodeReplace,
        Signup, TotpEnrolment,
    },
    crypto::{
        keyring::Keyring,
        opaque::ExportKey,
        sign::Signed,
        totp::{
            TotpSecret, {self},
        },
        CryptoError,
    },
    model::{Id, KeyEntry, Role},
};
use zeroize::Zeroizing;

use crate::{
    api::{
        account::{
            login_finish, login_second_factor, login_start, password_change_finish,
            password_change_start, recovery_code_finish, recovery_code_start, recovery_finish,
            recovery_start, renew_key_entry, signup_start, totp_enable, totp_enable_start,
        },
        directory::lookup_user,
        explain, explain_crypto, Flow,
    },
    platform::browser::next_paint,
    session::{now_unix, role_with_article},
};

/// A finished sign-up's keys and request, kept until the person confirms they
/// saved the recovery code (the page sends the request then).
pub use shared::client::NewAccount;

/// Checks what was typed against the account rules, in the order the fields
/// appear, and says what to change.
pub fn check_new_account(
    username: &str,
    password: &str,
    confirm: &str,
) -> Result<Username, String> {
    let name = Username::parse_new(username).map_err(|e| format!("{e}."))?;
    check_new_password(password, confirm, name.as_str(), false)?;
    Ok(name)
}

/// Checks a new password and its confirmation.
pub fn check_new_password(
    password: &str,
    confirm: &str,
    username: &str,
    has_second_factor: bool,
) -> Result<(), String> {
    check_password(password, username, has_second_factor).map_err(|e| format!("{e}."))?;
    // Only then: the common rule above needs the list.
    super::common_passwords::ready_for_check()?;
    if password != confirm {
        return Err("The two passwords are not the same. Type the new password again in \"Confirm password\".".to_owned());
    }
    Ok(())
}

/// The six digits of an authenticator code, spaces removed; anything else is
/// refused before a request is sent.
pub fn parse_code(typed: &str) -> Result<String, String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err("Type the six digits your authenticator app shows.".to_owned());
    }
    Ok(code)
}

/// How many other sessions a password change signed out, as a sentence.
pub fn ended_text(n: u32) -> String {
    match n {
        1 => "1 other session was signed out.".to_owned(),
        n => format!("{n} other sessions were signed out."),
    }
}

/// The base32 secret in groups of four, easier to type.
pub fn group_secret(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a recovery did to the account, as the note shown after it.
pub fn recovered_note(ended_sessions: u32, totp_removed: bool) -> String {
    let mut note = format!(
        "Your password was changed with your recovery code. {} signed out.",
        match ended_sessions {
            0 => "No other sessions were".to_owned(),
            1 => "1 other session was".to_owned(),
            n => format!("{n} other sessions were"),
        }
    );
    if totp_removed {
        note.push_str(" Your second factor (authenticator app) was switched off; you can turn it on again under Account.");
    }
    note
}

/// Opened keys, ready for [`crate::session::Session::unlock`].
pub struct Keys {
    /// The new session.
    pub info: SessionInfo,
    /// The private keys, opened and checked here.
    pub keyring: Keyring,
    /// The account's own entry, checked against the keys.
    pub key_entry: Signed<KeyEntry>,
    /// What to tell the person on the next page (a new role signed).
    pub note: Option<String>,
}

/// What the password left to open the keys with once the server has let the
/// person in (at once, or after the second factor).
pub struct PendingKeys(ExportKey);

impl PendingKeys {
    /// Opens the keyring the server sent and checks it against the account's
    /// own signed entry, so a server that swapped either is caught; then
    /// accepts a role an admin gave since ([`accept_role`]).
    pub async fn open(&self, signed_in: SignedIn) -> Result<Keys, String> {
        let keyring =
            open_keyring(&signed_in, &self.0).map_err(|e| explain_crypto(e, Flow::Login))?;
        accept_role(Keys {
            info: signed_in.session,
            keyring,
            key_entry: signed_in.key_entry,
            note: None,
        })
        .await
    }
}

/// When an admin gave the account another role since its directory entry
/// was signed, signs the entry again with that role (same keys) and sends it,
/// so other people's browsers see the role from the account's own signature
/// (PROTOCOL 15.13). The server's word alone changes only what it lets the
/// account do.
pub async fn accept_role(keys: Keys) -> Result<Keys, String> {
    let (was, now) = (keys.key_entry.value.role, keys.info.role);
    if was == now {
        return Ok(keys);
    }
    if was == Role::Patient || now == Role::Patient {
        return Err(format!(
            "The server says your account is now {} instead of {}. medvault never changes a role to or from patient, so this answer is wrong and nothing was signed. Tell your administrator.",
            role_with_article(now),
            role_with_article(was)
        ));
    }
    let entry = renewed_key_entry(&keys.keyring, &keys.key_entry.value, now)
        .map_err(|e| explain_crypto(e, Flow::Login))?;
    let info = renew_key_entry(entry.clone())
        .await
        .map_err(|e| explain(&e))?;
    Ok(Keys {
        info,
        keyring: keys.keyring,
        key_entry: entry,
        note: Some(format!(
            "An administrator made you {}. Your browser signed your new role; people look you up with it from now on.",
            role_with_article(now)
        )),
    })
}

/// Where a sign-in stands once the password was checked.
pub enum LoginStep {
    /// The server let the person in.
    SignedIn(Box<SignedIn>, PendingKeys),
    /// The server wants the authenticator code first.
    SecondFactor {
        /// The attempt the code belongs to.
        pending_id: Id,
        /// What opens the keys afterwards.
        keys: PendingKeys,
    },
}

/// Signs in with OPAQUE: the password is checked here (Argon2 runs in this
/// browser) and never sent.
pub async fn sign_in(name: &str, password: &str) -> Result<LoginStep, String> {
    let (login, request) =
        Login::start(name, password).map_err(|e| explain_crypto(e, Flow::Login))?;
    let started = login_start(request).await.map_err(|e| explain(&e))?;
    next_paint().await;
    // Argon2 runs here; a wrong password fails now, before anything is sent.
    let (request, export_key) = login
        .finish(&started)
        .map_err(|e| explain_crypto(e, Flow::Login))?;
    Ok(
        match login_finish(request).await.map_err(|e| explain(&e))? {
            LoginOutcome::SignedIn(signed_in) => {
                LoginStep::SignedIn(signed_in, PendingKeys(export_key))
            }
            LoginOutcome::SecondFactor { pending_id } => LoginStep::SecondFactor {
                pending_id,
                keys: PendingKeys(export_key),
            },
        },
    )
}

/// Sends the authenticator code of a sign-in that asked for one.
pub async fn send_code(pending_id: Id, code: String) -> Result<SignedIn, String> {
    login_second_factor(SecondFactorRequest { pending_id, code })
        .await
        .map_err(|e| explain(&e))
}

/// Sign-up, up to the recovery code: registers the password with OPAQUE and
/// makes the keys here. Returns the account to send once the person saved
/// the code, and the code to show once.
pub async fn sign_up(
    name: &Username,
    password: &str,
    invite: Option<String>,
) -> Result<(NewAccount, Zeroizing<String>), String> {
    let (signup, request) = Signup::start(name.as_str(), password, invite)
        .map_err(|e| explain_crypto(e, Flow::Signup))?;
    let started = signup_start(request).await.map_err(|e| explain(&e))?;
    next_paint().await;
    // Argon2 and key generation run here, in the browser.
    let new = signup
        .finish(&started, now_unix())
        .map_err(|e| explain_crypto(e, Flow::Signup))?;
    let code = new.recovery.to_code();
    Ok((new, code))
}

/// Changes the password: proves the current one and registers the new one.
/// With `new_code`, the new password then proves itself for a new recovery
/// code, whose own failure leaves the password changed.
pub async fn change_password(
    current: &str,
    new: &str,
    keyring: &Keyring,
    user_id: Id,
    new_code: bool,
) -> Result<(SessionsEnded, Option<Result<Zeroizing<String>, String>>), String> {
    let ended = change_password_only(current, new, keyring, user_id).await?;
    let made = if new_code {
        Some(replace_recovery_code(new, keyring, user_id).await)
    } else {
        None
    };
    Ok((ended, made))
}

async fn change_password_only(
    current: &str,
    new: &str,
    keyring: &Keyring,
    user_id: Id,
) -> Result<SessionsEnded, String> {
    let (change, request) =
        PasswordChange::start(current, new).map_err(|e| explain_crypto(e, Flow::PasswordChange))?;
    let started = password_change_start(request)
        .await
        .map_err(|e| explain(&e))?;
    next_paint().await;
    let request = change
        .finish(&started, keyring, &user_id)
        .map_err(|e| explain_crypto(e, Flow::PasswordChange))?;
    password_change_finish(request)
        .await
        .map_err(|e| explain(&e))
}

/// Replaces the account's recovery code: proves `password`, seals `keyring`
/// under a fresh recovery secret and sends both. Returns the new code to show
/// once, or a sentence saying what to do.
pub async fn replace_recovery_code(
    password: &str,
    keyring: &Keyring,
    user_id: Id,
) -> Result<Zeroizing<String>, String> {
    let (replace, request) = RecoveryCodeReplace::start(password)
        .map_err(|e| explain_crypto(e, Flow::PasswordChange))?;
    let started = recovery_code_start(request)
        .await
        .map_err(|e| explain(&e))?;
    next_paint().await;
    // Argon2 runs here, in the browser.
    let new = replace
        .finish(&started, keyring, &user_id)
        .map_err(|e| explain_crypto(e, Flow::PasswordChange))?;
    recovery_code_finish(new.request)
        .await
        .map_err(|e| explain(&e))?;
    // The secret itself is zeroised when `new.recovery` drops; only the code
    // to show is kept, as at sign-up.
    Ok(new.recovery.to_code())
}

/// A new authenticator secret, alive only while the enrolment form is open.
pub struct NewSecret(TotpSecret);

impl NewSecret {
    /// A copy to hand to [`enable_second_factor`] while the form keeps its own.
    pub fn duplicate(&self) -> NewSecret {
        NewSecret(TotpSecret::from_bytes(*self.0.as_bytes()))
    }
}

/// A second factor being set up: the secret, its QR code (SVG) and the key
/// to type by hand.
pub struct TotpSetup {
    /// The secret.
    pub secret: NewSecret,
    /// The `otpauth://` URI drawn as an SVG QR code.
    pub qr_svg: String,
    /// The base32 key in groups of four.
    pub manual: String,
}

/// Makes a fresh authenticator secret for `username`.
pub fn new_second_factor(username: &str) -> Result<TotpSetup, String> {
    let secret = TotpSecret::generate().map_err(|e| explain_crypto(e, Flow::Signup))?;
    let uri = totp::otpauth_uri(&secret, username);
    let qr_svg = totp::qr_svg(&uri).map_err(|e| explain_crypto(e, Flow::Signup))?;
    Ok(TotpSetup {
        manual: group_secret(&secret.to_base32()),
        secret: NewSecret(secret),
        qr_svg,
    })
}

/// Turns the second factor on, with a fresh proof of the password so an open
/// session alone cannot do it. `code` is what the app shows for `secret`.
pub async fn enable_second_factor(
    password: &str,
    secret: NewSecret,
    code: &str,
) -> Result<SessionInfo, String> {
    let (enrolment, request) =
        TotpEnrolment::start(password).map_err(|e| explain_crypto(e, Flow::SecondFactor))?;
    let started = totp_enable_start(request).await.map_err(|e| explain(&e))?;
    next_paint().await;
    let request = enrolment
        .finish(&started, &secret.0, code)
        .map_err(|e| explain_crypto(e, Flow::SecondFactor))?;
    totp_enable(request).await.map_err(|e| explain(&e))
}

/// A finished recovery: the keys to unlock, the note to show next, and the
/// fresh recovery code with its username if one was made.
pub struct Recovered {
    /// The opened keys.
    pub keys: Keys,
    /// What happened, for the next page.
    pub note: String,
    /// The new code and whose it is, to show once.
    pub new_code: Option<(Zeroizing<String>, String)>,
}

/// Recovers the account: the recovery code opens the recovery copy of the
/// keyring here, the new password is registered, and the account's own
/// directory entry is checked against the opened keys. With `new_code`, a
/// fresh recovery code replaces the one just typed; `progress` is told when
/// that starts.
pub async fn recover(
    name: &str,
    code: &str,
    password: &str,
    new_code: bool,
    progress: impl Fn(String),
) -> Result<Recovered, String> {
    let (recovery, request) =
        Recovery::start(name, password).map_err(|e| explain_crypto(e, Flow::Recovery))?;
    let started = recovery_start(request).await.map_err(|e| explain(&e))?;
    next_paint().await;
    let (request, keyring) = recovery
        .finish(&started, code)
        .map_err(|e| explain_crypto(e, Flow::Recovery))?;
    let recovered = recovery_finish(request).await.map_err(|e| explain(&e))?;
    // The account's own entry, checked against the keys just opened.
    let served = lookup_user(recovered.session.username.clone())
        .await
        .map_err(|e| explain(&e))?;
    let entry = served
        .entry
        .verify_self()
        .map_err(|e| explain_crypto(e, Flow::Directory))?;
    let public = keyring.public_keys();
    if entry.identity_key != public.identity || entry.encryption_key != public.encryption.to_bytes()
    {
        return Err(explain_crypto(CryptoError::BadSignature, Flow::Directory));
    }
    let mut note = recovered_note(recovered.ended_sessions, recovered.totp_removed);
    let user_id = recovered.session.user_id;
    let username = recovered.session.username.clone();
    let made = if new_code {
        progress("Making your new recovery code…".to_owned());
        match replace_recovery_code(password, &keyring, user_id).await {
            Ok(made) => Some((made, username)),
            Err(message) => {
                note.push_str(&format!(
                    " No new recovery code was made ({message}) Your old code still works; make a new one under Account."
                ));
                None
            }
        }
    } else {
        None
    };
    let keys = accept_role(Keys {
        info: recovered.session,
        keyring,
        key_entry: served.entry,
        note: None,
    })
    .await?;
    if let Some(signed) = &keys.note {
        note.push(' ');
        note.push_str(signed);
    }
    Ok(Recovered {
        keys,
        note,
        new_code: made,
    })
}

/// Deletes the signed-in patient's account and record: proves `password`,
/// sends the username they typed to confirm. Returns what was removed, or a
/// sentence saying what to do; a wrong password sends nothing more.
pub async fn delete_account(
    password: &str,
    username: String,
) -> Result<shared::api::account::AccountDeleted, String> {
    let (deletion, request) = shared::client::AccountDeletion::start(password)
        .map_err(|e| explain_crypto(e, Flow::SecondFactor))?;
    let started = shared::api::account::delete_account_start(request)
        .await
        .map_err(|e| explain(&e))?;
    next_paint().await;
    let request = deletion
        .finish(&started, username)
        .map_err(|e| explain_crypto(e, Flow::SecondFactor))?;
    shared::api::account::delete_account_finish(request)
        .await
        .map_err(|e| explain(&e))
}
