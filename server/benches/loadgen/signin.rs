//! One OPAQUE sign-in as a client, for the load generators: every step runs
//! for real except Argon2, which is memoised per input (the OPRF output for a
//! password is the same at every sign-in, so the bytes sent are exactly a real
//! client's, without the 20 ms).

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

use opaque_ke::{
    errors::InternalError,
    generic_array::{ArrayLength, GenericArray},
    ksf::Ksf,
    CipherSuite, ClientLogin, ClientLoginFinishParameters, CredentialResponse, Identifiers,
};
use shared::{
    api::account::LoginStarted,
    crypto::{b64, context, opaque::Argon2Ksf, rng::Rng},
};

use super::{json, refused, Conn};

/// Argon2id with the suite's parameters, computed once per distinct input.
#[derive(Default)]
struct MemoArgon2;

fn memo() -> &'static Mutex<HashMap<Vec<u8>, Vec<u8>>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Vec<u8>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl Ksf for MemoArgon2 {
    fn hash<L: ArrayLength<u8>>(
        &self,
        input: GenericArray<u8, L>,
    ) -> Result<GenericArray<u8, L>, InternalError> {
        let key = input.to_vec();
        if let Some(out) = memo()
            .lock()
            .map_err(|_| InternalError::KsfError)?
            .get(&key)
        {
            return Ok(GenericArray::clone_from_slice(out));
        }
        let out = Argon2Ksf.hash(input)?;
        memo()
            .lock()
            .map_err(|_| InternalError::KsfError)?
            .insert(key, out.to_vec());
        Ok(out)
    }
}

/// medvault's suite with the memoising key stretching function.
struct LoadSuite;

impl CipherSuite for LoadSuite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2::Sha512>;
    type Ksf = MemoArgon2;
}

/// One complete sign-in: KE1 → KE2, client finish, KE3 → session cookie.
pub fn sign_in(conn: &mut Conn, username: &str, password: &[u8]) -> std::io::Result<()> {
    let started = ClientLogin::<LoadSuite>::start(&mut Rng, password)
        .map_err(|_| std::io::Error::other("client start"))?;
    let ke1 = b64::encode(&started.message.serialize());
    let body = format!(r#"{{"request":{{"username":"{username}","ke1":"{ke1}"}}}}"#);
    let reply = conn.post("/api/account/login/start", &body, None)?;
    if reply.status != 200 {
        return Err(refused("login/start", &reply));
    }
    let ls: LoginStarted = json(&reply);
    let response = CredentialResponse::<LoadSuite>::deserialize(&ls.ke2)
        .map_err(|_| std::io::Error::other("ke2"))?;
    let ksf = MemoArgon2;
    let finished = started
        .state
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
        .map_err(|_| std::io::Error::other("client finish (wrong password?)"))?;
    let body = format!(
        r#"{{"request":{{"login_id":"{}","ke3":"{}"}}}}"#,
        b64::encode(&ls.login_id),
        b64::encode(&finished.message.serialize())
    );
    let reply = conn.post("/api/account/login/finish", &body, None)?;
    if reply.status != 200 || reply.cookie.is_none() {
        return Err(refused("login/finish", &reply));
    }
    Ok(())
}
