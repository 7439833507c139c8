//! The sharing steps: grants opened by their doctor only, refused choices, and
//! which versions are trusted (the owner, or a doctor allowed to write there).

use super::*;
use crate::api::sharing::GrantStatus;

fn entry(role: Role, key: &SigningKey, enc: &EncryptionSecretKey, id: u8) -> KeyEntry {
    KeyEntry {
        user_id: [id; 16],
        username: format!("user{id}"),
        role,
        identity_key: key.verifying_key(),
        encryption_key: enc.public_key().to_bytes(),
        created_at: 1,
    }
}

struct Party {
    sign: SigningKey,
    enc: EncryptionSecretKey,
    entry: KeyEntry,
}

fn party(role: Role, id: u8) -> Party {
    let sign = SigningKey::generate().unwrap();
    let enc = EncryptionSecretKey::generate().unwrap();
    let entry = entry(role, &sign, &enc, id);
    Party { sign, enc, entry }
}

fn view(signed: Signed<Grant>, wrapped: Vec<u8>) -> GrantView {
    GrantView {
        grant: signed,
        wrapped_key: wrapped,
        patient_name: "p".into(),
        doctor_name: "d".into(),
        status: GrantStatus::Active,
        revoked_at: None,
        emergency: None,
    }
}

fn choice(doctor: &KeyEntry, node_key: &Key256) -> GrantChoice {
    GrantChoice {
        doctor: doctor.clone(),
        node_id: [9; 16],
        node_key: node_key.clone(),
        permission: Permission::Read,
        expires_at: Some(2000),
        emergency: false,
    }
}

#[test]
fn a_grant_opens_for_its_doctor_only() {
    let patient = party(Role::Patient, 1);
    let doctor = party(Role::Doctor, 2);
    let other = party(Role::Doctor, 3);
    let key = Key256::generate().unwrap();
    let (signed, wrapped) = make_grant(
        &patient.entry,
        &patient.sign,
        &choice(&doctor.entry, &key),
        1000,
    )
    .unwrap();
    let v = view(signed.clone(), wrapped.clone());
    let opened = open_grant(&v, &patient.entry, &doctor.entry.user_id, &doctor.enc).unwrap();
    assert_eq!(opened.node_key.as_bytes(), key.as_bytes());
    assert_eq!(opened.grant.node_id, [9; 16]);
    assert!(is_current(&opened.grant, 1999));
    assert!(!is_current(&opened.grant, 2000));

    // Another doctor, even served the same bytes, gets nothing.
    assert!(open_grant(&v, &patient.entry, &other.entry.user_id, &other.enc).is_err());
    // Not signed by this patient.
    let stranger = party(Role::Patient, 4);
    let forged = sign::sign(&stranger.sign, signed.value.clone());
    assert_eq!(
        open_grant(
            &view(forged, wrapped.clone()),
            &patient.entry,
            &doctor.entry.user_id,
            &doctor.enc
        )
        .err(),
        Some(GrantOpenError::NotSigned)
    );
}

#[test]
fn a_swapped_wrapped_key_is_refused() {
    let patient = party(Role::Patient, 1);
    let doctor = party(Role::Doctor, 2);
    let key = Key256::generate().unwrap();
    let (signed, _) = make_grant(
        &patient.entry,
        &patient.sign,
        &choice(&doctor.entry, &key),
        1000,
    )
    .unwrap();
    // A key wrapped to the same doctor for another node, as a lying server
    // might hand over to widen the scope.
    let other_node = hpke::wrap_node_key(
        &doctor.enc.public_key(),
        &doctor.entry.user_id,
        &[8; 16],
        &Key256::generate().unwrap(),
    )
    .unwrap();
    assert!(open_grant(
        &view(signed, other_node),
        &patient.entry,
        &doctor.entry.user_id,
        &doctor.enc
    )
    .is_err());
}

#[test]
fn a_key_the_patient_did_not_give_is_refused_before_unwrapping() {
    let patient = party(Role::Patient, 1);
    let doctor = party(Role::Doctor, 2);
    let key = Key256::generate().unwrap();
    let (signed, wrapped) = make_grant(
        &patient.entry,
        &patient.sign,
        &choice(&doctor.entry, &key),
        1000,
    )
    .unwrap();
    assert_eq!(signed.value.key_hash, wrapped_key_hash(&wrapped));
    // The server's own key, freshly wrapped to the doctor's real key for the
    // right node: it would open, but the patient never signed it.
    let chosen = Key256::generate().unwrap();
    let fresh = hpke::wrap_node_key(
        &doctor.enc.public_key(),
        &doctor.entry.user_id,
        &[9; 16],
        &chosen,
    )
    .unwrap();
    let refused = open_grant(
        &view(signed.clone(), fresh),
        &patient.entry,
        &doctor.entry.user_id,
        &doctor.enc,
    )
    .err()
    .unwrap();
    assert_eq!(refused, GrantOpenError::KeyNotGiven);
    assert!(refused
        .sentence()
        .starts_with("The key for this shared folder was not the one the patient gave you"));
    // A hash changed to match the new key breaks the patient's signature.
    let mut relabelled = signed.clone();
    relabelled.value.key_hash = [0; 32];
    assert_eq!(
        open_grant(
            &view(relabelled, wrapped.clone()),
            &patient.entry,
            &doctor.entry.user_id,
            &doctor.enc
        )
        .err(),
        Some(GrantOpenError::NotSigned)
    );
    // No key at all (an empty answer) is not the patient's key either.
    assert_eq!(
        open_grant(
            &view(signed, Vec::new()),
            &patient.entry,
            &doctor.entry.user_id,
            &doctor.enc
        )
        .err(),
        Some(GrantOpenError::KeyNotGiven)
    );
}

#[test]
fn bad_choices_are_refused_with_words() {
    let patient = party(Role::Patient, 1);
    let doctor = party(Role::Doctor, 2);
    let nurse = party(Role::Patient, 5);
    let key = Key256::generate().unwrap();
    let mine = choice(&patient.entry, &key);
    assert!(make_grant(&patient.entry, &patient.sign, &mine, 1000)
        .unwrap_err()
        .contains("yourself"));
    let not_doctor = choice(&nurse.entry, &key);
    assert!(make_grant(&patient.entry, &patient.sign, &not_doctor, 1000)
        .unwrap_err()
        .contains("not a doctor"));
    let mut past = choice(&doctor.entry, &key);
    past.expires_at = Some(999);
    assert!(make_grant(&patient.entry, &patient.sign, &past, 1000)
        .unwrap_err()
        .contains("passed"));
    // An emergency contact may be a patient, never an admin or auditor.
    let mut relative = choice(&nurse.entry, &key);
    relative.emergency = true;
    assert!(make_grant(&patient.entry, &patient.sign, &relative, 1000).is_ok());
    for role in [Role::Admin, Role::Auditor] {
        let staff = party(role, 6);
        let mut pick = choice(&staff.entry, &key);
        pick.emergency = true;
        assert!(make_grant(&patient.entry, &patient.sign, &pick, 1000)
            .unwrap_err()
            .contains("emergency contact"));
    }
}

/// A version of node [5; 16] in folder [9; 16], signed by `author`.
fn version_by(author: &Party, created_at: i64, grant: Option<Signed<Grant>>) -> VersionView {
    let chunk_size = 4096;
    let size = 100;
    let manifest = FileManifest {
        node_id: [5; 16],
        parent_id: [9; 16],
        version: 1,
        size,
        part_hashes: vec![[7; 32]],
        author_id: author.entry.user_id,
        created_at,
    };
    VersionView {
        node_id: [5; 16],
        version: 1,
        chunk_size,
        ciphertext_len: crate::crypto::stream::ciphertext_len(size, chunk_size).unwrap(),
        wrapped_content_key: vec![0; 40],
        manifest: sign::sign(&author.sign, manifest),
        author_id: author.entry.user_id,
        author_name: author.entry.username.clone(),
        stored_at: created_at,
        write_grant: grant,
    }
}

fn write_grant(patient: &Party, doctor: &Party, permission: Permission) -> Signed<Grant> {
    let key = Key256::generate().unwrap();
    let mut c = choice(&doctor.entry, &key);
    c.permission = permission;
    make_grant(&patient.entry, &patient.sign, &c, 1000)
        .unwrap()
        .0
}

fn inside_nine(folder: &Id, inner: &Id) -> bool {
    folder == inner || (*folder == [1; 16] && *inner == [9; 16])
}

#[test]
fn a_version_is_trusted_from_the_owner_or_a_doctor_allowed_to_write() {
    let patient = party(Role::Patient, 1);
    let doctor = party(Role::Doctor, 2);
    let other = party(Role::Doctor, 3);
    let rw = write_grant(&patient, &doctor, Permission::ReadWrite);

    // The owner's own version needs no grant.
    let own = version_by(&patient, 1500, None);
    assert!(check_version(&own, &patient.entry, None, inside_nine).is_ok());
    // A doctor's version under a read-and-write grant covering its folder.
    let by_doctor = version_by(&doctor, 1500, Some(rw.clone()));
    assert!(check_version(&by_doctor, &patient.entry, Some(&doctor.entry), inside_nine).is_ok());

    let refused = |v: &VersionView, author: Option<&KeyEntry>| {
        check_version(v, &patient.entry, author, inside_nine).is_err()
    };
    // No grant, or the author's entry missing or someone else's.
    assert!(refused(
        &version_by(&doctor, 1500, None),
        Some(&doctor.entry)
    ));
    assert!(refused(&by_doctor, None));
    assert!(refused(&by_doctor, Some(&other.entry)));
    // A read-only grant.
    let ro = write_grant(&patient, &doctor, Permission::Read);
    assert!(refused(
        &version_by(&doctor, 1500, Some(ro)),
        Some(&doctor.entry)
    ));
    // A grant to another doctor, or one the patient did not sign.
    let to_other = write_grant(&patient, &other, Permission::ReadWrite);
    assert!(refused(
        &version_by(&doctor, 1500, Some(to_other)),
        Some(&doctor.entry)
    ));
    let mut forged = rw.clone();
    forged.value.node_id = [1; 16];
    assert!(refused(
        &version_by(&doctor, 1500, Some(forged)),
        Some(&doctor.entry)
    ));
    let self_made = {
        let mut g = rw.value.clone();
        g.patient_id = patient.entry.user_id;
        sign::sign(&doctor.sign, g)
    };
    assert!(refused(
        &version_by(&doctor, 1500, Some(self_made)),
        Some(&doctor.entry)
    ));
    // Written before the grant began or after it ended (end 2000).
    assert!(refused(
        &version_by(&doctor, 1000 - WRITE_CLOCK_SKEW_SECS - 1, Some(rw.clone())),
        Some(&doctor.entry)
    ));
    assert!(refused(
        &version_by(&doctor, 2000 + WRITE_CLOCK_SKEW_SECS, Some(rw.clone())),
        Some(&doctor.entry)
    ));
    // A grant on a folder that does not hold the version's folder.
    let elsewhere = |_: &Id, _: &Id| false;
    assert!(check_version(&by_doctor, &patient.entry, Some(&doctor.entry), elsewhere).is_err());
    // A manifest the doctor did not sign.
    let mut swapped = by_doctor.clone();
    swapped.manifest = version_by(&other, 1500, None).manifest;
    swapped.manifest.value.author_id = doctor.entry.user_id;
    assert!(refused(&swapped, Some(&doctor.entry)));
}

/// A share of one file: its grant covers that file's versions, wherever the
/// file is, and no other file's.
#[test]
fn a_grant_of_one_file_covers_its_versions_only() {
    let patient = party(Role::Patient, 1);
    let doctor = party(Role::Doctor, 2);
    let of_file = |node_id: Id| {
        let key = Key256::generate().unwrap();
        let mut c = choice(&doctor.entry, &key);
        c.node_id = node_id;
        c.permission = Permission::ReadWrite;
        make_grant(&patient.entry, &patient.sign, &c, 1000)
            .unwrap()
            .0
    };
    // No folder covers the version's folder here: only the file grant holds.
    let nowhere = |_: &Id, _: &Id| false;
    let this_file = version_by(&doctor, 1500, Some(of_file([5; 16])));
    assert!(check_version(&this_file, &patient.entry, Some(&doctor.entry), nowhere).is_ok());
    let other_file = version_by(&doctor, 1500, Some(of_file([6; 16])));
    assert!(check_version(&other_file, &patient.entry, Some(&doctor.entry), nowhere).is_err());
}

fn plain_grant(permission: Permission, expires_at: Option<i64>) -> Grant {
    Grant {
        grant_id: [1; 16],
        patient_id: [2; 16],
        doctor_id: [3; 16],
        doctor_key: [4; 32],
        key_hash: [5; 32],
        node_id: [6; 16],
        permission,
        created_at: 100,
        expires_at,
        revision: 0,
    }
}

/// `g` as a change of a grant at revision 0 is sent: one revision up.
fn next(mut g: Grant) -> Grant {
    g.revision = 1;
    g
}

#[test]
fn a_later_end_or_write_access_widens_a_share() {
    let old = plain_grant(Permission::Read, Some(1_000));
    for new in [
        plain_grant(Permission::Read, Some(2_000)),
        plain_grant(Permission::Read, None),
        plain_grant(Permission::ReadWrite, Some(1_000)),
        plain_grant(Permission::ReadWrite, None),
    ] {
        assert_eq!(grant_change(&old, &next(new), 500), Ok(GrantChange::Widens));
    }
}

#[test]
fn an_earlier_end_or_taking_write_back_narrows_a_share() {
    let old = plain_grant(Permission::ReadWrite, None);
    for new in [
        plain_grant(Permission::ReadWrite, Some(2_000)),
        plain_grant(Permission::Read, None),
        // One more, one less: still less of something.
        plain_grant(Permission::Read, Some(3_000)),
    ] {
        assert_eq!(
            grant_change(&old, &next(new), 500),
            Ok(GrantChange::Narrows)
        );
    }
    let dated = plain_grant(Permission::Read, Some(2_000));
    let earlier = next(plain_grant(Permission::Read, Some(1_500)));
    assert_eq!(
        grant_change(&dated, &earlier, 500),
        Ok(GrantChange::Narrows)
    );
}

#[test]
fn fail_a_change_of_anything_else_nothing_or_a_past_end() {
    let old = plain_grant(Permission::Read, Some(1_000));
    let mut other_folder = plain_grant(Permission::Read, Some(2_000));
    other_folder.node_id = [9; 16];
    let mut other_key = plain_grant(Permission::Read, Some(2_000));
    other_key.key_hash = [9; 32];
    let mut other_doctor = plain_grant(Permission::Read, Some(2_000));
    other_doctor.doctor_id = [9; 16];
    for new in [other_folder, other_key, other_doctor] {
        assert!(grant_change(&old, &next(new), 500)
            .unwrap_err()
            .contains("only in its end date"));
    }
    assert!(grant_change(&old, &next(old.clone()), 500)
        .unwrap_err()
        .contains("Nothing was changed"));
    // The revision counts up by one: not the same, not skipping.
    let later = plain_grant(Permission::Read, Some(2_000));
    for revision in [0, 2] {
        let mut new = later.clone();
        new.revision = revision;
        assert!(grant_change(&old, &new, 500)
            .unwrap_err()
            .contains("revision up by one"));
    }
    let past = next(plain_grant(Permission::Read, Some(400)));
    assert!(grant_change(&old, &past, 500)
        .unwrap_err()
        .contains("already passed"));
}

#[test]
fn a_replayed_earlier_revision_is_judged_by_the_newest_terms_seen() {
    let first = plain_grant(Permission::ReadWrite, None);
    let changed = next(plain_grant(Permission::Read, Some(2_000)));
    let seen = GrantTerms::of(&changed);
    // The server serves the grant as it was made: the terms seen win.
    let judged = GrantTerms::newest(Some(&seen), &first);
    assert_eq!(judged.permission, Permission::Read);
    assert_eq!(judged.expires_at, Some(2_000));
    assert_eq!(judged.revision, 1);
    assert_eq!(judged.grant_id, first.grant_id);
    // The newest or a later revision stands as served.
    assert_eq!(GrantTerms::newest(Some(&seen), &changed), changed);
    assert_eq!(GrantTerms::newest(None, &first), first);
    let old_seen = GrantTerms::of(&first);
    assert_eq!(GrantTerms::newest(Some(&old_seen), &changed), changed);
}

#[test]
fn a_revision_is_signed_and_absent_while_zero() {
    let made = plain_grant(Permission::Read, None);
    let json = serde_json::to_value(&made).unwrap();
    assert!(json.get("revision").is_none());
    let changed = next(made.clone());
    assert_eq!(serde_json::to_value(&changed).unwrap()["revision"], 1);
    // Revision 0 signs the bytes grants had before the field; a revision
    // above it adds four bytes, so one grant's revisions never share bytes.
    let zero = crate::crypto::sign::Signable::signed_bytes(&made);
    let one = crate::crypto::sign::Signable::signed_bytes(&changed);
    assert_eq!(one.len(), zero.len() + 4 + 4);
}
