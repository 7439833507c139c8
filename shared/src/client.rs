//! The client's half of the account protocol as pure steps: each takes what the
//! user typed and what the server answered, and returns the next request. No I/O,
//! so the browser app and the server's native tests run the very same code.
//!
//! Passwords go in as typed; every step normalises them (`account::normalize_password`)
//! before OPAQUE, so sign-up and sign-in agree whatever the keyboard produced.

use zeroize::Zeroizing;

mod directory;

pub use directory::{
    admin_certificate_code, admin_request_code, certify_admin, check_admin_certificate,
    parse_admin_certificate, parse_admin_request, renewed_key_entry, verify_directory_entry,
    DirectoryError, VerifiedEntry,
};

use crate::{
    account::normalize_password,
    api::account::{
        LoginFinishRequest, LoginStartRequest, LoginStarted, PasswordChangeFinishRequest,
        PasswordChangeStartRequest, PasswordChangeStarted, RecoveryCodeFinishRequest,
        RecoveryCodeStartRequest, RecoveryCodeStarted, RecoveryFinishRequest, RecoveryStartRequest,
        RecoveryStarted, SignedIn, SignupFinishRequest, SignupStartRequest, SignupStarted,
        TotpEnableRequest, TotpEnableStartRequest, TotpEnableStarted,
    },
    crypto::{
        keyring::Keyring,
        opaque::{
            ClientLogin, ClientRegistration, {self},
        },
        recovery::RecoverySecret,
        sign::{
            Signed, {self},
        },
        totp::TotpSecret,
        CryptoError,
    },
    model::{DoctorCertificate, Id, KeyEntry, Role},
};

/// A sign-up between its two messages.
pub struct Signup {
    password: Zeroizing<String>,
    registration: ClientRegistration,
}

/// What a finished sign-up leaves in the browser: the keys, and the recovery
/// secret to show once.
pub struct NewAccount {
    /// The second sign-up message.
    pub request: SignupFinishRequest,
    /// The keys, to keep in memory for this session.
    pub keyring: Keyring,
    /// The recovery secret; show `to_code()` once, then drop it.
    pub recovery: RecoverySecret,
}

impl Signup {
    /// Step 1: blinds the password. `invite` is the code from an invite link.
    pub fn start(
        username: &str,
        password: &str,
        invite: Option<String>,
    ) -> Result<(Signup, SignupStartRequest), CryptoError> {
        let password = normalize_password(password);
        let (registration, registration_request) =
            opaque::client_registration_start(password.as_bytes())?;
        Ok((
            Signup {
                password,
                registration,
            },
            SignupStartRequest {
                username: username.to_owned(),
                invite,
                registration_request,
            },
        ))
    }

    /// Step 2: finishes OPAQUE registration, makes the keyring and the recovery
    /// secret, seals both copies and signs the key entry. `now` is Unix seconds.
    pub fn finish(self, started: &SignupStarted, now: i64) -> Result<NewAccount, CryptoError> {
        let finished = self
            .registration
            .finish(self.password.as_bytes(), &started.registration_response)?;
        // A patient's record is made now, its root id named in the keyring,
        // so no browser ever makes a second one (docs/PROTOCOL.md, 4.5).
        let (keyring, record) = if started.role == Role::Patient {
            let root_id: Id = crate::crypto::rng::bytes()?;
            let keyring = Keyring::generate()?.with_record(root_id);
            let record = crate::records::new_record(
                &started.user_id,
                &keyring.public_keys().encryption,
                keyring.identity(),
                root_id,
                now,
            )?;
            (keyring, Some(record.into()))
        } else {
            (Keyring::generate()?, None)
        };
        let recovery = RecoverySecret::generate()?;
        let sealed_keyring =
            keyring.seal_with_password(finished.export_key.as_bytes(), &started.user_id)?;
        let recovery_keyring = keyring.seal_with_recovery(&recovery, &started.user_id)?;
        let key_entry = key_entry(
            &keyring,
            started.user_id,
            &started.username,
            started.role,
            now,
        );
        Ok(NewAccount {
            request: SignupFinishRequest {
                registration_id: started.registration_id,
                registration_upload: finished.upload,
                key_entry,
                sealed_keyring,
                recovery_keyring,
                recovery_verifier: recovery.verifier(&started.user_id)?,
                record,
            },
            keyring,
            recovery,
        })
    }
}

/// The self-signed directory entry for `keyring`.
pub fn key_entry(
    keyring: &Keyring,
    user_id: Id,
    username: &str,
    role: Role,
    now: i64,
) -> Signed<KeyEntry> {
    let public = keyring.public_keys();
    sign::sign(
        keyring.identity(),
        KeyEntry {
            user_id,
            username: username.to_owned(),
            role,
            identity_key: public.identity,
            encryption_key: public.encryption.to_bytes(),
            created_at: now,
        },
    )
}

/// A sign-in between its two messages.
pub struct Login {
    password: Zeroizing<String>,
    login: ClientLogin,
}

impl Login {
    /// Step 1: blinds the password into KE1.
    pub fn start(
        username: &str,
        password: &str,
    ) -> Result<(Login, LoginStartRequest), CryptoError> {
        let password = normalize_password(password);
        let (login, ke1) = opaque::client_login_start(password.as_bytes())?;
        Ok((
            Login { password, login },
            LoginStartRequest {
                username: username.to_owned(),
                ke1,
            },
        ))
    }

    /// Step 2: runs Argon2 and authenticates the server. A wrong password (or an
    /// unknown user) is [`CryptoError::Login`]; nothing is sent then. Returns the
    /// request and the export key to open the keyring with once the server
    /// answers.
    pub fn finish(
        self,
        started: &LoginStarted,
    ) -> Result<(LoginFinishRequest, opaque::ExportKey), CryptoError> {
        let finished = self.login.finish(self.password.as_bytes(), &started.ke2)?;
        Ok((
            LoginFinishRequest {
                login_id: started.login_id,
                ke3: finished.finalization,
            },
            finished.export_key,
        ))
    }
}

/// Step 3 of a sign-in: opens the keyring and checks it against the account's own
/// signed key entry, so a server that swapped either is caught.
pub fn open_keyring(
    signed_in: &SignedIn,
    export_key: &opaque::ExportKey,
) -> Result<Keyring, CryptoError> {
    let entry = signed_in.key_entry.verify_self()?;
    if entry.user_id != signed_in.session.user_id {
        return Err(CryptoError::BadSignature);
    }
    let keyring = Keyring::open_with_password(
        export_key.as_bytes(),
        &signed_in.session.user_id,
        &signed_in.sealed_keyring,
    )?;
    check_keyring_matches(&keyring, entry)?;
    Ok(keyring)
}

pub(crate) fn check_keyring_matches(
    keyring: &Keyring,
    entry: &KeyEntry,
) -> Result<(), CryptoError> {
    let public = keyring.public_keys();
    if public.identity != entry.identity_key || public.encryption.to_bytes() != entry.encryption_key
    {
        return Err(CryptoError::BadSignature);
    }
    Ok(())
}

/// A password change between its two messages.
pub struct PasswordChange {
    current: Zeroizing<String>,
    new: Zeroizing<String>,
    login: ClientLogin,
    registration: ClientRegistration,
}

impl PasswordChange {
    /// Step 1: a fresh login with the current password and a registration of the
    /// new one.
    pub fn start(
        current: &str,
        new: &str,
    ) -> Result<(PasswordChange, PasswordChangeStartRequest), CryptoError> {
        let current = normalize_password(current);
        let new = normalize_password(new);
        let (login, ke1) = opaque::client_login_start(current.as_bytes())?;
        let (registration, registration_request) =
            opaque::client_registration_start(new.as_bytes())?;
        Ok((
            PasswordChange {
                current,
                new,
                login,
                registration,
            },
            PasswordChangeStartRequest {
                ke1,
                registration_request,
            },
        ))
    }

    /// Step 2: proves the current password, finishes the new registration and
    /// re-seals `keyring` under the new export key. A wrong current password is
    /// [`CryptoError::Login`].
    pub fn finish(
        self,
        started: &PasswordChangeStarted,
        keyring: &Keyring,
        user_id: &Id,
    ) -> Result<PasswordChangeFinishRequest, CryptoError> {
        let login = self.login.finish(self.current.as_bytes(), &started.ke2)?;
        let registration = self
            .registration
            .finish(self.new.as_bytes(), &started.registration_response)?;
        Ok(PasswordChangeFinishRequest {
            change_id: started.change_id,
            ke3: login.finalization,
            registration_upload: registration.upload,
            sealed_keyring: keyring
                .seal_with_password(registration.export_key.as_bytes(), user_id)?,
        })
    }
}

/// Turning the second factor on between its two messages: a fresh proof of the
/// current password, then the new secret and a code from the user's app.
pub struct TotpEnrolment {
    password: Zeroizing<String>,
    login: ClientLogin,
}

impl TotpEnrolment {
    /// Step 1: a fresh login with the current password.
    pub fn start(password: &str) -> Result<(TotpEnrolment, TotpEnableStartRequest), CryptoError> {
        let password = normalize_password(password);
        let (login, ke1) = opaque::client_login_start(password.as_bytes())?;
        Ok((
            TotpEnrolment { password, login },
            TotpEnableStartRequest { ke1 },
        ))
    }

    /// Step 2: proves the password and hands over `secret` with a `code` the app
    /// showed for it. A wrong password is [`CryptoError::Login`]; nothing is sent
    /// then.
    pub fn finish(
        self,
        started: &TotpEnableStarted,
        secret: &TotpSecret,
        code: &str,
    ) -> Result<TotpEnableRequest, CryptoError> {
        let login = self.login.finish(self.password.as_bytes(), &started.ke2)?;
        Ok(TotpEnableRequest {
            enable_id: started.enable_id,
            ke3: login.finalization,
            secret: secret.to_base32(),
            code: code.to_owned(),
        })
    }
}

/// A recovery between its two messages.
pub struct Recovery {
    new: Zeroizing<String>,
    registration: ClientRegistration,
}

impl Recovery {
    /// Step 1: registers the new password.
    pub fn start(
        username: &str,
        new_password: &str,
    ) -> Result<(Recovery, RecoveryStartRequest), CryptoError> {
        let new = normalize_password(new_password);
        let (registration, registration_request) =
            opaque::client_registration_start(new.as_bytes())?;
        Ok((
            Recovery { new, registration },
            RecoveryStartRequest {
                username: username.to_owned(),
                registration_request,
            },
        ))
    }

    /// Step 2: reads the recovery code, opens the recovery copy of the keyring,
    /// proves possession and re-seals under the new password. A wrong code (or an
    /// unknown user) is [`CryptoError::RecoveryCode`] or [`CryptoError::Decrypt`].
    pub fn finish(
        self,
        started: &RecoveryStarted,
        code: &str,
    ) -> Result<(RecoveryFinishRequest, Keyring), CryptoError> {
        let secret = RecoverySecret::from_code(code)?;
        let keyring =
            Keyring::open_with_recovery(&secret, &started.user_id, &started.recovery_keyring)?;
        let proof = secret.prove(&started.user_id, &started.challenge)?;
        let registration = self
            .registration
            .finish(self.new.as_bytes(), &started.registration_response)?;
        let sealed_keyring =
            keyring.seal_with_password(registration.export_key.as_bytes(), &started.user_id)?;
        Ok((
            RecoveryFinishRequest {
                recovery_id: started.recovery_id,
                proof,
                registration_upload: registration.upload,
                sealed_keyring,
            },
            keyring,
        ))
    }
}

/// A recovery-code replacement between its two messages.
pub struct RecoveryCodeReplace {
    password: Zeroizing<String>,
    login: ClientLogin,
}

/// What a finished replacement leaves in the browser: the request to send and
/// the new secret, to show once after the server accepted it.
pub struct NewRecoveryCode {
    /// The second replacement message.
    pub request: RecoveryCodeFinishRequest,
    /// The new recovery secret; show `to_code()` once, then drop it.
    pub recovery: RecoverySecret,
}

impl RecoveryCodeReplace {
    /// Step 1: a fresh login with the account's password.
    pub fn start(
        password: &str,
    ) -> Result<(RecoveryCodeReplace, RecoveryCodeStartRequest), CryptoError> {
        let password = normalize_password(password);
        let (login, ke1) = opaque::client_login_start(password.as_bytes())?;
        Ok((
            RecoveryCodeReplace { password, login },
            RecoveryCodeStartRequest { ke1 },
        ))
    }

    /// Step 2: proves the password, draws a new recovery secret and seals
    /// `keyring` under it. A wrong password is [`CryptoError::Login`]; nothing
    /// is sent then.
    pub fn finish(
        self,
        started: &RecoveryCodeStarted,
        keyring: &Keyring,
        user_id: &Id,
    ) -> Result<NewRecoveryCode, CryptoError> {
        let login = self.login.finish(self.password.as_bytes(), &started.ke2)?;
        let recovery = RecoverySecret::generate()?;
        Ok(NewRecoveryCode {
            request: RecoveryCodeFinishRequest {
                replace_id: started.replace_id,
                ke3: login.finalization,
                recovery_keyring: keyring.seal_with_recovery(&recovery, user_id)?,
                recovery_verifier: recovery.verifier(user_id)?,
            },
            recovery,
        })
    }
}

/// An admin's certificate for a doctor's checked entry, signed in the admin's
/// browser.
pub fn certify_doctor(
    admin_keyring: &Keyring,
    admin_id: Id,
    doctor: &KeyEntry,
    licence_id: &str,
    now: i64,
) -> Signed<DoctorCertificate> {
    sign::sign(
        admin_keyring.identity(),
        DoctorCertificate {
            doctor_id: doctor.user_id,
            doctor_username: doctor.username.clone(),
            doctor_identity_key: doctor.identity_key,
            doctor_encryption_key: doctor.encryption_key,
            licence_id: licence_id.trim().to_owned(),
            admin_id,
            issued_at: now,
        },
    )
}

/// An account deletion between its two messages (PROTOCOL 15.12).
pub struct AccountDeletion {
    password: Zeroizing<String>,
    login: ClientLogin,
}

impl AccountDeletion {
    /// Step 1: a fresh login with the account's password.
    pub fn start(
        password: &str,
    ) -> Result<
        (
            AccountDeletion,
            crate::api::account::DeleteAccountStartRequest,
        ),
        CryptoError,
    > {
        let password = normalize_password(password);
        let (login, ke1) = opaque::client_login_start(password.as_bytes())?;
        Ok((
            AccountDeletion { password, login },
            crate::api::account::DeleteAccountStartRequest { ke1 },
        ))
    }

    /// Step 2: proves the password; `username` is what the person typed to
    /// confirm. A wrong password is [`CryptoError::Login`]; nothing is sent
    /// then.
    pub fn finish(
        self,
        started: &crate::api::account::DeleteAccountStarted,
        username: String,
    ) -> Result<crate::api::account::DeleteAccountFinishRequest, CryptoError> {
        let login = self.login.finish(self.password.as_bytes(), &started.ke2)?;
        Ok(crate::api::account::DeleteAccountFinishRequest {
            delete_id: started.delete_id,
            ke3: login.finalization,
            username,
        })
    }
}
