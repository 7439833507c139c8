//! Login and registration with OPAQUE (RFC 9807): the password never leaves the
//! browser, and the server stores nothing a dictionary attack could start from
//! without also stealing its OPRF seed.
//!
//! # The cipher suite (defined once, here)
//!
//! | part         | choice                                                        |
//! |--------------|---------------------------------------------------------------|
//! | OPRF         | ristretto255-SHA512 (RFC 9497), mode OPRF                     |
//! | key exchange | 3DH (RFC 9807 section 6.4) over ristretto255, SHA-512          |
//! | KDF / MAC    | HKDF-SHA512 / HMAC-SHA512                                     |
//! | KSF          | Argon2id v0x13, m = 19456 KiB, t = 2, p = 1, salt = 16 zero bytes, output 64 bytes |
//! | context      | [`context::OPAQUE_CONTEXT`] (`medvault/v1/opaque`)            |
//! | identities   | none given: RFC 9807 defaults (the client's and server's public keys) |
//!
//! The Argon2 parameters are written out in [`Argon2Ksf`] rather than taken from
//! the `argon2` crate's defaults, so an upgrade of that crate cannot change them
//! (which would lock every user out). The KSF salt is the all-zero string that
//! RFC 9807 section 3.2 prescribes: the KSF input is already a per-user OPRF
//! output.
//!
//! The credential identifier (the OPRF key is derived from it and the server's
//! OPRF seed) is the username's bytes, given to the server-side steps.
//!
//! # Wire format (all fixed sizes, RFC 9807 section 6.1 encodings)
//!
//! | message                               | bytes | layout |
//! |---------------------------------------|------:|--------|
//! | registration request (client → server)  | 32  | blinded_element |
//! | registration response (server → client) | 64  | evaluated_element ‖ server_public_key |
//! | registration upload (client → server)   | 192 | client_public_key ‖ masking_key (64) ‖ envelope (nonce 32 ‖ auth_tag 64) |
//! | password file (stored by the server)    | 192 | = the registration upload |
//! | KE1, credential request                 | 96  | blinded_element ‖ client_nonce ‖ client_public_keyshare |
//! | KE2, credential response                | 320 | evaluated_element ‖ masking_nonce ‖ masked_response (128) ‖ server_nonce ‖ server_public_keyshare ‖ server_mac (64) |
//! | KE3, credential finalization            | 64  | client_mac |
//! | server login state (kept by the server) | 128 | session_key (64) ‖ expected_client_mac (64) — secret |
//! | server setup (kept by the server)       | 128 | oprf_seed (64) ‖ server_private_key (32) ‖ fake_client_public_key (32) — secret |
//!
//! Every byte input must have exactly its length, or it is [`CryptoError::Malformed`].
//!
//! # Unknown users
//!
//! [`server_login_start`] with no password file answers with a KE2 built from
//! a fake record (RFC 9807 section 10.9): a random masking key, the server
//! setup's fixed fake client public key, and the OPRF key derived from the seed
//! and the username as for a real user. It has the same size and shape as a real
//! KE2, so an observer cannot tell which usernames exist; the client then fails
//! with [`CryptoError::Login`] exactly as for a wrong password.

use opaque_ke::errors::{InternalError, ProtocolError};
use opaque_ke::generic_array::{ArrayLength, GenericArray};
use opaque_ke::ksf::Ksf;
use opaque_ke::{
    CipherSuite, ClientLoginFinishParameters, ClientRegistrationFinishParameters,
    CredentialFinalization, CredentialRequest, CredentialResponse, Identifiers,
    RegistrationRequest, RegistrationResponse, RegistrationUpload, ServerLoginParameters,
};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{context, rng::Rng, CryptoError};

/// Argon2id memory cost in KiB (19 MiB, OWASP's minimum for Argon2id).
pub const ARGON2_M_COST_KIB: u32 = 19456;
/// Argon2id passes.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id lanes (the browser runs one thread).
pub const ARGON2_P_COST: u32 = 1;
/// The KSF salt: RFC 9807 section 3.2 uses a fixed all-zero 16-byte salt.
pub const ARGON2_SALT: [u8; 16] = [0u8; 16];

/// Registration request length (client → server).
pub const REGISTRATION_REQUEST_LEN: usize = 32;
/// Registration response length (server → client).
pub const REGISTRATION_RESPONSE_LEN: usize = 64;
/// Registration upload length (client → server); also the password file length.
pub const REGISTRATION_UPLOAD_LEN: usize = 192;
/// Stored password file length.
pub const PASSWORD_FILE_LEN: usize = REGISTRATION_UPLOAD_LEN;
/// KE1 (credential request) length.
pub const CREDENTIAL_REQUEST_LEN: usize = 96;
/// KE2 (credential response) length, for real and fake responses alike.
pub const CREDENTIAL_RESPONSE_LEN: usize = 320;
/// KE3 (credential finalization) length.
pub const CREDENTIAL_FINALIZATION_LEN: usize = 64;
/// Serialised server login state length.
pub const SERVER_LOGIN_STATE_LEN: usize = 128;
/// Serialised server setup length.
pub const SERVER_SETUP_LEN: usize = 128;
/// Session key length (SHA-512 output).
pub const SESSION_KEY_LEN: usize = 64;
/// Export key length (SHA-512 output).
pub const EXPORT_KEY_LEN: usize = 64;

/// The key stretching function with our Argon2id parameters spelled out.
///
/// A zero-sized wrapper so that `Default` (what opaque-ke calls) can only ever
/// mean these parameters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Argon2Ksf;

impl Argon2Ksf {
    /// The `argon2` parameters of the suite, for an output of `output_len` bytes.
    pub fn params(output_len: usize) -> Result<argon2::Params, CryptoError> {
        argon2::Params::new(
            ARGON2_M_COST_KIB,
            ARGON2_T_COST,
            ARGON2_P_COST,
            Some(output_len),
        )
        .map_err(|_| CryptoError::Unavailable)
    }

    /// Argon2id v0x13 with the suite's parameters.
    pub fn hasher(output_len: usize) -> Result<argon2::Argon2<'static>, CryptoError> {
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            Self::params(output_len)?,
        ))
    }
}

impl Ksf for Argon2Ksf {
    fn hash<L: ArrayLength<u8>>(
        &self,
        mut input: GenericArray<u8, L>,
    ) -> Result<GenericArray<u8, L>, InternalError> {
        let mut output = GenericArray::<u8, L>::default();
        let result = Self::hasher(output.len())
            .map_err(|_| InternalError::KsfError)
            .and_then(|hasher| {
                hasher
                    .hash_password_into(&input, &ARGON2_SALT, &mut output)
                    .map_err(|_| InternalError::KsfError)
            });
        input.as_mut_slice().zeroize();
        result.map(|()| output)
    }
}

/// medvault's OPAQUE cipher suite (see the module docs).
pub struct Suite;

impl CipherSuite for Suite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2::Sha512>;
    type Ksf = Argon2Ksf;
}

fn login_params() -> ServerLoginParameters<'static, 'static> {
    ServerLoginParameters {
        context: Some(context::OPAQUE_CONTEXT.as_bytes()),
        identifiers: Identifiers::default(),
    }
}

/// Checks an input's exact length before any parsing.
fn exact(bytes: &[u8], len: usize) -> Result<&[u8], CryptoError> {
    if bytes.len() == len {
        Ok(bytes)
    } else {
        Err(CryptoError::Malformed)
    }
}

/// Maps an error of a protocol step (inputs already parsed) to ours.
fn step_error<T>(err: ProtocolError<T>) -> CryptoError {
    match err {
        ProtocolError::LibraryError(InternalError::KsfError) => CryptoError::Unavailable,
        ProtocolError::SerializationError | ProtocolError::SizeError { .. } => {
            CryptoError::Malformed
        }
        // Failed MACs, a reflected OPRF value, points that do not decode after
        // unmasking: all mean "not the right password / not the real server".
        _ => CryptoError::Login,
    }
}

/// Copies a 64-byte hash output into an array and wipes the source.
fn take64<L: ArrayLength<u8>>(mut src: GenericArray<u8, L>) -> Result<[u8; 64], CryptoError> {
    let out: Result<[u8; 64], _> = src.as_slice().try_into();
    src.as_mut_slice().zeroize();
    out.map_err(|_| CryptoError::Malformed)
}

macro_rules! secret64 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 64]);

        impl $name {
            /// The key bytes, to feed a KDF.
            pub fn as_bytes(&self) -> &[u8; 64] {
                &self.0
            }

            /// Constant-time equality.
            pub fn ct_eq(&self, other: &Self) -> Choice {
                self.0.ct_eq(&other.0)
            }
        }
    };
}

secret64!(
    /// OPAQUE's `export_key`: a per-registration secret only the password
    /// holder can recompute; the keyring is sealed under a key derived from it.
    /// Stable across logins until the password is registered again.
    ExportKey
);

secret64!(
    /// The shared key of one login, equal on both sides when the login succeeds.
    SessionKey
);

/// The server's long-term OPAQUE keys and the OPRF seed (which also makes fake
/// responses for unknown users). Secret: never printed, zeroized on drop.
pub struct ServerSetup(opaque_ke::ServerSetup<Suite>);

/// Secret bytes (a serialised server setup or server login state); zeroized on
/// drop and never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// The bytes, to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl ServerSetup {
    /// A fresh server setup: made once, when the server is first installed.
    pub fn generate() -> Self {
        ServerSetup(opaque_ke::ServerSetup::new(&mut Rng))
    }

    /// `oprf_seed (64) ‖ server_private_key (32) ‖ fake_client_public_key (32)`.
    pub fn to_bytes(&self) -> SecretBytes {
        let mut bytes = self.0.serialize();
        let out = SecretBytes(bytes.to_vec());
        bytes.as_mut_slice().zeroize();
        out
    }

    /// Reads a stored setup; the keys must be canonical and non-zero.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        opaque_ke::ServerSetup::deserialize(exact(bytes, SERVER_SETUP_LEN)?)
            .map(ServerSetup)
            .map_err(|_| CryptoError::Malformed)
    }

    /// The server's static public key (32 bytes), which clients may pin.
    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0.keypair().public().serialize());
        out
    }
}

// ---------------------------------------------------------------- registration

/// The client's state between registration start and finish. Kept in memory only.
pub struct ClientRegistration(opaque_ke::ClientRegistration<Suite>);

/// Client, registration step 1: blinds the password. Returns the state to keep
/// and the registration request to send.
pub fn client_registration_start(
    password: &[u8],
) -> Result<(ClientRegistration, Vec<u8>), CryptoError> {
    let started =
        opaque_ke::ClientRegistration::<Suite>::start(&mut Rng, password).map_err(step_error)?;
    Ok((
        ClientRegistration(started.state),
        started.message.serialize().to_vec(),
    ))
}

/// What client registration finish produces.
pub struct ClientRegistrationFinish {
    /// The registration upload, to send to the server.
    pub upload: Vec<u8>,
    /// The export key, to seal the new keyring under.
    pub export_key: ExportKey,
}

impl ClientRegistration {
    /// Client, registration step 2: runs Argon2 on the OPRF output, seals the
    /// envelope and returns the upload and the export key.
    pub fn finish(
        self,
        password: &[u8],
        response: &[u8],
    ) -> Result<ClientRegistrationFinish, CryptoError> {
        let response =
            RegistrationResponse::<Suite>::deserialize(exact(response, REGISTRATION_RESPONSE_LEN)?)
                .map_err(|_| CryptoError::Malformed)?;
        let ksf = Argon2Ksf;
        let finished = self
            .0
            .finish(
                &mut Rng,
                password,
                response,
                ClientRegistrationFinishParameters::new(Identifiers::default(), Some(&ksf)),
            )
            .map_err(step_error)?;
        Ok(ClientRegistrationFinish {
            upload: finished.message.serialize().to_vec(),
            export_key: ExportKey(take64(finished.export_key)?),
        })
    }
}

/// Server, registration step 1: evaluates the OPRF under the key derived for
/// `username`. Stateless: nothing to keep between the two requests.
pub fn server_registration_start(
    setup: &ServerSetup,
    username: &[u8],
    request: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let request =
        RegistrationRequest::<Suite>::deserialize(exact(request, REGISTRATION_REQUEST_LEN)?)
            .map_err(|_| CryptoError::Malformed)?;
    let started = opaque_ke::ServerRegistration::<Suite>::start(&setup.0, request, username)
        .map_err(step_error)?;
    Ok(started.message.serialize().to_vec())
}

/// Server, registration step 2: checks the upload's shape and returns the
/// password file to store for the user (the same 192 bytes).
pub fn server_registration_finish(upload: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let upload = RegistrationUpload::<Suite>::deserialize(exact(upload, REGISTRATION_UPLOAD_LEN)?)
        .map_err(|_| CryptoError::Malformed)?;
    Ok(opaque_ke::ServerRegistration::<Suite>::finish(upload)
        .serialize()
        .to_vec())
}

// ----------------------------------------------------------------------- login

/// The client's state between login start and finish. Kept in memory only.
pub struct ClientLogin(opaque_ke::ClientLogin<Suite>);

/// Client, login step 1: returns the state to keep and KE1 to send.
pub fn client_login_start(password: &[u8]) -> Result<(ClientLogin, Vec<u8>), CryptoError> {
    let started = opaque_ke::ClientLogin::<Suite>::start(&mut Rng, password).map_err(step_error)?;
    Ok((
        ClientLogin(started.state),
        started.message.serialize().to_vec(),
    ))
}

/// What a successful client login produces.
pub struct ClientLoginFinish {
    /// KE3, to send to the server so that it accepts the login.
    pub finalization: Vec<u8>,
    /// The session key, equal to the server's.
    pub session_key: SessionKey,
    /// The export key, to unseal the keyring with.
    pub export_key: ExportKey,
}

impl ClientLogin {
    /// Client, login step 2: runs Argon2, opens the envelope, authenticates the
    /// server. A wrong password, an unknown user or a forged response all give
    /// [`CryptoError::Login`].
    pub fn finish(
        self,
        password: &[u8],
        response: &[u8],
    ) -> Result<ClientLoginFinish, CryptoError> {
        let response =
            CredentialResponse::<Suite>::deserialize(exact(response, CREDENTIAL_RESPONSE_LEN)?)
                .map_err(|_| CryptoError::Malformed)?;
        let ksf = Argon2Ksf;
        let finished = self
            .0
            .finish(
                &mut Rng,
                password,
                response,
                ClientLoginFinishParameters::new(
                    Some(context::OPAQUE_CONTEXT.as_bytes()),
                    Identifiers::default(),
                    Some(&ksf),
                ),
            )
            .map_err(step_error)?;
        Ok(ClientLoginFinish {
            finalization: finished.message.serialize().to_vec(),
            session_key: SessionKey(take64(finished.session_key)?),
            export_key: ExportKey(take64(finished.export_key)?),
        })
    }
}

/// The server's state between login start and finish, stored between the two
/// HTTP round trips (see [`ServerLoginState::to_bytes`]). Secret.
pub struct ServerLoginState(opaque_ke::ServerLogin<Suite>);

/// Server, login step 1: answers KE1 with KE2. `password_file` is `None` for
/// an unknown username: the answer is then a fake of the same size and shape.
pub fn server_login_start(
    setup: &ServerSetup,
    username: &[u8],
    password_file: Option<&[u8]>,
    request: &[u8],
) -> Result<(ServerLoginState, Vec<u8>), CryptoError> {
    let request = CredentialRequest::<Suite>::deserialize(exact(request, CREDENTIAL_REQUEST_LEN)?)
        .map_err(|_| CryptoError::Malformed)?;
    let password_file = match password_file {
        Some(bytes) => Some(
            opaque_ke::ServerRegistration::<Suite>::deserialize(exact(bytes, PASSWORD_FILE_LEN)?)
                .map_err(|_| CryptoError::Malformed)?,
        ),
        None => None,
    };
    let started = opaque_ke::ServerLogin::start(
        &mut Rng,
        &setup.0,
        password_file,
        request,
        username,
        login_params(),
    )
    .map_err(step_error)?;
    Ok((
        ServerLoginState(started.state),
        started.message.serialize().to_vec(),
    ))
}

impl ServerLoginState {
    /// `session_key (64) ‖ expected_client_mac (64)`: secret, store it only
    /// server-side and briefly.
    pub fn to_bytes(&self) -> SecretBytes {
        let mut bytes = self.0.serialize();
        let out = SecretBytes(bytes.to_vec());
        bytes.as_mut_slice().zeroize();
        out
    }

    /// Reads a stored login state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        opaque_ke::ServerLogin::<Suite>::deserialize(exact(bytes, SERVER_LOGIN_STATE_LEN)?)
            .map(ServerLoginState)
            .map_err(|_| CryptoError::Malformed)
    }

    /// Server, login step 2: checks the client's MAC (KE3). On success the
    /// client knew the password; returns the session key.
    pub fn finish(self, finalization: &[u8]) -> Result<SessionKey, CryptoError> {
        let finalization = CredentialFinalization::<Suite>::deserialize(exact(
            finalization,
            CREDENTIAL_FINALIZATION_LEN,
        )?)
        .map_err(|_| CryptoError::Malformed)?;
        let finished = self
            .0
            .finish(finalization, login_params())
            .map_err(step_error)?;
        Ok(SessionKey(take64(finished.session_key)?))
    }
}
