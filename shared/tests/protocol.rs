//! Protocol v1 end to end, natively: the modules composed the way the app and the
//! server will use them. A patient registers and signs in with OPAQUE, seals a
//! keyring, builds a record (root, folder, file), stores a file in chunks with a
//! signed manifest, and grants the folder to a doctor, who finds and reads the
//! file with nothing but their own password. Each step also shows what an
//! attacker with the server's storage cannot do.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use shared::{
    crypto::{
        aead::{
            Key256, {self},
        },
        context,
        fingerprint::SafetyNumber,
        hpke,
        keyring::Keyring,
        opaque::{
            ServerSetup, {self},
        },
        recovery::{
            RecoverySecret, {self},
        },
        rng,
        sign::{
            Signed, {self},
        },
        stream::{
            ready, AesGcmBackend, Decryptor, Encryptor, StreamCipher, {self},
        },
        CryptoError,
    },
    model::{FileManifest, Grant, Id, KeyEntry, Permission, Role},
};

/// What the server keeps for one account: nothing it can open.
struct Account {
    user_id: Id,
    password_file: Vec<u8>,
    sealed_keyring: Vec<u8>,
    recovery_keyring: Vec<u8>,
    recovery_verifier: sign::VerifyingKey,
    entry: Signed<KeyEntry>,
}

fn register(
    setup: &ServerSetup,
    username: &str,
    password: &[u8],
    role: Role,
) -> (Account, RecoverySecret) {
    let user_id = rng::id().unwrap();
    let (client, request) = opaque::client_registration_start(password).unwrap();
    let response = opaque::server_registration_start(setup, username.as_bytes(), &request).unwrap();
    let finished = client.finish(password, &response).unwrap();
    let password_file = opaque::server_registration_finish(&finished.upload).unwrap();

    let keyring = Keyring::generate().unwrap();
    let public = keyring.public_keys();
    let secret = RecoverySecret::generate().unwrap();
    let entry = sign::sign(
        keyring.identity(),
        KeyEntry {
            user_id,
            username: username.into(),
            role,
            identity_key: public.identity,
            encryption_key: public.encryption.to_bytes(),
            created_at: 1_790_000_000,
        },
    );
    let account = Account {
        user_id,
        password_file,
        sealed_keyring: keyring
            .seal_with_password(finished.export_key.as_bytes(), &user_id)
            .unwrap(),
        recovery_keyring: keyring.seal_with_recovery(&secret, &user_id).unwrap(),
        recovery_verifier: secret.verifier(&user_id).unwrap(),
        entry,
    };
    (account, secret)
}

fn sign_in(
    setup: &ServerSetup,
    username: &str,
    password: &[u8],
    account: &Account,
) -> Result<Keyring, CryptoError> {
    let (client, ke1) = opaque::client_login_start(password)?;
    let (server, ke2) = opaque::server_login_start(
        setup,
        username.as_bytes(),
        Some(&account.password_file),
        &ke1,
    )?;
    let done = client.finish(password, &ke2)?;
    let server_key = server.finish(&done.finalization)?;
    assert!(bool::from(server_key.ct_eq(&done.session_key)));
    Keyring::open_with_password(
        done.export_key.as_bytes(),
        &account.user_id,
        &account.sealed_keyring,
    )
}

#[test]
fn a_patient_shares_a_lab_result_with_a_doctor() {
    let setup = ServerSetup::generate();
    let (patient, _) = register(&setup, "ada", b"a long patient passphrase", Role::Patient);
    let (doctor, _) = register(
        &setup,
        "dr.house",
        b"the doctor's own passphrase",
        Role::Doctor,
    );

    // Both directory entries verify, and each side computes the same safety number.
    let doctor_entry = doctor.entry.verify_self().unwrap().clone();
    let seen_by_patient = SafetyNumber::new(
        &doctor_entry.user_id,
        &doctor_entry.identity_key.to_bytes(),
        &doctor_entry.encryption_key,
    );
    let ring = sign_in(&setup, "dr.house", b"the doctor's own passphrase", &doctor).unwrap();
    let own = ring.public_keys();
    assert_eq!(
        seen_by_patient,
        SafetyNumber::new(
            &doctor.user_id,
            &own.identity.to_bytes(),
            &own.encryption.to_bytes()
        )
    );

    // The patient signs in and builds a record: root -> "Labs" folder -> file.
    let keys = sign_in(&setup, "ada", b"a long patient passphrase", &patient).unwrap();
    let (root_id, folder_id, file_id) =
        (rng::id().unwrap(), rng::id().unwrap(), rng::id().unwrap());
    let root_key = Key256::generate().unwrap();
    let folder_key = Key256::generate().unwrap();
    let file_key = Key256::generate().unwrap();
    let root_wrapped = hpke::wrap_node_key(
        &keys.public_keys().encryption,
        &patient.user_id,
        &root_id,
        &root_key,
    )
    .unwrap();
    let folder_wrapped = aead::wrap_key(
        &root_key,
        &context::node_key_aad(&folder_id, &root_id),
        &folder_key,
    )
    .unwrap();
    let file_wrapped = aead::wrap_key(
        &folder_key,
        &context::node_key_aad(&file_id, &folder_id),
        &file_key,
    )
    .unwrap();
    let metadata = aead::seal(
        &file_key,
        &context::metadata_aad(&file_id),
        br#"{"name":"CBC 2026-11.pdf"}"#,
    )
    .unwrap();

    // Version 1 of the file: fresh content key, chunked content, signed manifest.
    let content: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let content_key = Key256::generate().unwrap();
    let content_wrapped = aead::wrap_key(
        &file_key,
        &context::content_key_aad(&file_id, 1),
        &content_key,
    )
    .unwrap();
    let chunk_size = 64 * 1024;
    let cipher =
        StreamCipher::new(AesGcmBackend::new(&content_key), &file_id, 1, chunk_size).unwrap();
    let mut encryptor = Encryptor::new(cipher);
    let mut stored = Vec::new();
    for piece in content.chunks(10_000) {
        ready(encryptor.update(piece, &mut stored)).unwrap();
    }
    ready(encryptor.finish(&mut stored)).unwrap();
    assert_eq!(
        stored.len() as u64,
        stream::ciphertext_len(content.len() as u64, chunk_size).unwrap()
    );
    assert!(
        !stored.windows(16).any(|w| w == &content[..16]),
        "no plaintext in what the server stores"
    );
    let parts: Vec<&[u8]> = stored
        .chunks(chunk_size as usize + stream::TAG_LEN)
        .collect();
    let manifest = sign::sign(
        keys.identity(),
        FileManifest {
            node_id: file_id,
            parent_id: folder_id,
            version: 1,
            size: content.len() as u64,
            part_hashes: parts.iter().map(|p| sign::part_hash(p)).collect(),
            author_id: patient.user_id,
            created_at: 1_790_000_100,
        },
    );

    // The patient grants the Labs folder to the doctor: wrap and sign.
    let doctor_pk = hpke::EncryptionPublicKey::from_bytes(doctor_entry.encryption_key).unwrap();
    let grant_wrapped =
        hpke::wrap_node_key(&doctor_pk, &doctor.user_id, &folder_id, &folder_key).unwrap();
    let grant = sign::sign(
        keys.identity(),
        Grant {
            grant_id: rng::id().unwrap(),
            patient_id: patient.user_id,
            doctor_id: doctor.user_id,
            doctor_key: doctor_entry.encryption_key,
            key_hash: shared::sharing::wrapped_key_hash(&grant_wrapped),
            node_id: folder_id,
            permission: Permission::Read,
            created_at: 1_790_000_200,
            expires_at: Some(1_800_000_000),
            revision: 0,
        },
    );

    // The doctor, from their password alone, reaches the file's content.
    let patient_identity = patient.entry.verify_self().unwrap().identity_key;
    grant.verify(&patient_identity).unwrap();
    let doctor_keys = sign_in(&setup, "dr.house", b"the doctor's own passphrase", &doctor).unwrap();
    let folder = hpke::unwrap_node_key(
        doctor_keys.encryption(),
        &doctor.user_id,
        &folder_id,
        &grant_wrapped,
    )
    .unwrap();
    let file = aead::unwrap_key(
        &folder,
        &context::node_key_aad(&file_id, &folder_id),
        &file_wrapped,
    )
    .unwrap();
    assert_eq!(
        &aead::open(&file, &context::metadata_aad(&file_id), &metadata).unwrap()[..],
        br#"{"name":"CBC 2026-11.pdf"}"#
    );
    let checked = manifest.verify(&patient_identity).unwrap();
    for (part, hash) in parts.iter().zip(&checked.part_hashes) {
        assert_eq!(&sign::part_hash(part), hash);
    }
    let ck = aead::unwrap_key(
        &file,
        &context::content_key_aad(&file_id, 1),
        &content_wrapped,
    )
    .unwrap();
    let cipher = StreamCipher::new(AesGcmBackend::new(&ck), &file_id, 1, chunk_size).unwrap();
    let mut decryptor = Decryptor::new(cipher);
    let mut plain = Vec::new();
    for piece in stored.chunks(7_777) {
        ready(decryptor.update(piece, &mut plain)).unwrap();
    }
    ready(decryptor.finish(&mut plain)).unwrap();
    assert_eq!(plain, content);

    // The patient, signed in afresh, walks down from the root to the same folder.
    let again = sign_in(&setup, "ada", b"a long patient passphrase", &patient).unwrap();
    let root = hpke::unwrap_node_key(
        again.encryption(),
        &patient.user_id,
        &root_id,
        &root_wrapped,
    )
    .unwrap();
    let folder_again = aead::unwrap_key(
        &root,
        &context::node_key_aad(&folder_id, &root_id),
        &folder_wrapped,
    )
    .unwrap();
    assert_eq!(folder_again, folder);

    // What the doctor cannot do: open the patient's root, or the grant's key as
    // another node.
    assert!(hpke::unwrap_node_key(
        doctor_keys.encryption(),
        &doctor.user_id,
        &root_id,
        &root_wrapped
    )
    .is_err());
    assert!(hpke::unwrap_node_key(
        doctor_keys.encryption(),
        &doctor.user_id,
        &root_id,
        &grant_wrapped
    )
    .is_err());
}

#[test]
fn fail_wrong_password_opens_nothing() {
    let setup = ServerSetup::generate();
    let (patient, _) = register(&setup, "ada", b"right passphrase", Role::Patient);
    assert_eq!(
        sign_in(&setup, "ada", b"wrong passphrase", &patient).map(|_| ()),
        Err(CryptoError::Login)
    );
}

#[test]
fn recovery_then_new_password() {
    let setup = ServerSetup::generate();
    let (mut patient, secret) = register(&setup, "ada", b"forgotten passphrase", Role::Patient);
    let before = sign_in(&setup, "ada", b"forgotten passphrase", &patient)
        .unwrap()
        .public_keys();
    let code = secret.to_code();

    // The user types the code; the server checks a proof over its challenge.
    let typed = RecoverySecret::from_code(&code).unwrap();
    let challenge: [u8; 32] = rng::bytes().unwrap();
    let proof = typed.prove(&patient.user_id, &challenge).unwrap();
    recovery::verify_proof(
        &patient.recovery_verifier,
        &patient.user_id,
        &challenge,
        &proof,
    )
    .unwrap();
    let keys =
        Keyring::open_with_recovery(&typed, &patient.user_id, &patient.recovery_keyring).unwrap();

    // A new OPAQUE registration and a re-sealed keyring; the keys stay the same.
    let (client, request) = opaque::client_registration_start(b"new passphrase").unwrap();
    let response = opaque::server_registration_start(&setup, b"ada", &request).unwrap();
    let finished = client.finish(b"new passphrase", &response).unwrap();
    patient.password_file = opaque::server_registration_finish(&finished.upload).unwrap();
    patient.sealed_keyring = keys
        .seal_with_password(finished.export_key.as_bytes(), &patient.user_id)
        .unwrap();
    let after = sign_in(&setup, "ada", b"new passphrase", &patient)
        .unwrap()
        .public_keys();
    assert_eq!(before, after);
    assert!(sign_in(&setup, "ada", b"forgotten passphrase", &patient).is_err());
}
