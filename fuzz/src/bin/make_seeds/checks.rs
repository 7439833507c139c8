//! Seeds for `shared_checks`: the browser's checks of signed things.

use super::*;

pub(super) fn shared_checks() {
    let t = "shared_checks";
    let key = signing_key();
    let manifest = sign::sign(
        &key,
        shared::model::FileManifest {
            node_id: NODE,
            parent_id: USER,
            version: 1,
            size: 100,
            part_hashes: vec![[3; 32]],
            author_id: USER,
            created_at: 1_765_000_000,
        },
    );
    let version = serde_json::json!({
        "node_id": b64::encode(&NODE),
        "version": 1,
        "chunk_size": 4096,
        "ciphertext_len": 116,
        "wrapped_content_key": b64::encode(&[1; 60]),
        "manifest": manifest,
        "author_id": b64::encode(&USER),
        "author_name": "patient",
        "stored_at": 1_765_000_000,
        "write_grant": null,
    });
    write(t, "version", &with(0, &[&[1, 0], &json(&version)]));
    let grant = shared::model::Grant {
        grant_id: [8; 16],
        patient_id: USER,
        doctor_id: [0x77; 16],
        doctor_key: hpke_secret().public_key().to_bytes(),
        key_hash: [0; 32],
        node_id: NODE,
        permission: shared::model::Permission::ReadWrite,
        created_at: 1_765_000_000,
        expires_at: None,
    };
    let signed_grant = sign::sign(&key, grant.clone());
    let view = serde_json::json!({
        "grant": signed_grant,
        "wrapped_key": b64::encode(&[2; 80]),
        "patient_name": "patient",
        "doctor_name": "doctor",
        "status": shared::api::sharing::GrantStatus::Active,
        "revoked_at": null,
    });
    let mut rotation = vec![1u8];
    rotation.extend_from_slice(&0u64.to_le_bytes());
    rotation.extend_from_slice(&NODE);
    rotation.extend_from_slice(&[0; 16]);
    write(t, "rotation", &with(1, &[&rotation, &json(&[view])]));
    write(t, "legacy", &with(2, &[&[0], &json(&signed_grant)]));
    let mut manifest_grant = version.clone();
    manifest_grant["author_id"] = b64::encode(&[0x77; 16]).into();
    manifest_grant["write_grant"] = serde_json::to_value(&signed_grant).expect("JSON");
    write(
        t,
        "version_doctor",
        &with(0, &[&[3, 1], &json(&manifest_grant)]),
    );
    let event = AuditEvent {
        seq: 1,
        at: 1_765_000_000,
        actor: Some(USER),
        session: None,
        kind: EventKind::from_code(1).expect("a kind"),
        subject: None,
        item: None,
    };
    let encoded = event.encode();
    let hash = audit_chain::link(&audit_chain::GENESIS, 1, &encoded);
    let head = sign::sign(
        &key,
        ChainHead {
            seq: 1,
            hash,
            signed_at: 1_765_000_000,
        },
    );
    let memory = shared::audit::AuditMemory {
        key: key.verifying_key(),
        retired: vec![],
        seq: 1,
        hash,
    };
    write(t, "audit_memory", &with(3, &[&[0], &json(&memory)]));
    let check = serde_json::json!({
        "memory": memory,
        "heads": [head],
        "entries": [LogEntry { seq: 1, event: encoded, hash }],
    });
    write(t, "audit_check", &with(3, &[&[1], &json(&check)]));
    let tree = medvault_fuzz::accounts::world()
        .runtime
        .block_on(async {
            use shared::api::records::RecordsBackend;
            let server = medvault_fuzz::accounts::backend(std::sync::Arc::new(
                medvault_fuzz::mem::MemStore::copy_of(&medvault_fuzz::accounts::world().store),
            ));
            server.record_tree(&medvault_fuzz::accounts::alice()).await
        })
        .expect("tree")
        .expect("a record");
    let mut tree = serde_json::to_value(&tree).expect("JSON");
    tree["owner_id"] = b64::encode(&USER).into();
    write(t, "states", &with(4, &[&[0], &[0; 8], &json(&tree)]));
    write(
        t,
        "states_doctor",
        &with(7, &[&[0], &[0; 8], &[0; 16], &json(&tree)]),
    );
    let readings = serde_json::json!([
        {"kind": "blood_pressure", "taken_at": 1_765_000_000, "value": 120.0, "second": 80.0},
        {"kind": "temperature", "taken_at": 1_765_000_100, "value": 37.2, "second": null},
    ]);
    write(
        t,
        "vitals",
        &with(5, &[&[1], &98.6f64.to_le_bytes(), &json(&readings)]),
    );
    write(
        t,
        "vital_unit",
        &with(5, &[&[6], &5.5f64.to_le_bytes(), b"mg_dl"]),
    );
    let new_node = serde_json::json!({
        "node_id": b64::encode(&NODE),
        "parent_id": b64::encode(&USER),
        "kind": "file",
        "wrapped_key": b64::encode(&[4; 60]),
        "metadata": b64::encode(&[5; 64]),
        "state": null,
    });
    let mut bulk = 1_765_000_000u64.to_le_bytes().to_vec();
    bulk.extend_from_slice(&4096u32.to_le_bytes());
    bulk.extend_from_slice(&100u64.to_le_bytes());
    bulk.push(116);
    bulk.extend_from_slice(&[6; 116]);
    write(t, "bulk", &with(6, &[&bulk, &json(&new_node)]));
}
