//! Seeds for the targets that drive the server's own handlers: `opaque` and
//! `server_http`.

use super::*;

/// A whole registration and sign-in against a server setup made here, so that
/// every message and stored state is a real one (two Argon2 runs).
pub(super) fn opaque() {
    use medvault_crypto::opaque;
    let t = "opaque";
    let password = b"correct horse battery staple";
    let setup = opaque::ServerSetup::generate();
    let (registration, request) = opaque::client_registration_start(password).expect("start");
    let response = opaque::server_registration_start(&setup, b"alice", &request).expect("response");
    let upload = registration
        .finish(password, &response)
        .expect("finish")
        .upload;
    let file = opaque::server_registration_finish(&upload).expect("file");
    let (login, ke1) = opaque::client_login_start(password).expect("ke1");
    let (state, ke2) =
        opaque::server_login_start(&setup, b"alice", Some(&file), &ke1).expect("ke2");
    let ke3 = login.finish(password, &ke2).expect("ke3").finalization;
    let setup_bytes = setup.to_bytes();
    let setup_bytes = setup_bytes.as_bytes();
    let state_bytes = state.to_bytes();
    write(t, "signup_start", &with(0, &[&[1], &request]));
    write(t, "signup_finish", &with(1, &[&upload]));
    write(t, "login_start_known", &with(2, &[&[0], &ke1]));
    write(t, "login_start_unknown", &with(2, &[&[2], &ke1]));
    write(t, "login_finish", &with(3, &[&[0], &ke3]));
    let stored = serde_json::json!({
        "opaque_setup": b64::encode(setup_bytes),
        "fake_seed": b64::encode(&[7; 32]),
    });
    let mut value = vec![server::store::codec::VERSION];
    value.extend_from_slice(&json(&stored));
    write(t, "stored_secrets", &with(4, &[&[0], &value]));
    write(t, "stored_setup", &with(4, &[&[1], setup_bytes]));
    write(t, "password_file", &with(5, &[&[0], &file]));
    write(t, "password_file_ke1", &with(5, &[&[1], &file, &ke1]));
    write(t, "setup", &with(6, &[setup_bytes]));
    write(t, "login_state", &with(7, &[state_bytes.as_bytes(), &ke3]));
    write(t, "upload", &with(8, &[&[0], &upload]));
    write(t, "registration_request", &with(8, &[&[1], &request]));
    write(t, "registration_response", &with(9, &[&response]));
    write(t, "ke2", &with(10, &[&ke2]));
}

/// Queries the `GET` server functions take.
const QUERIES: &[(&str, &str)] = &[
    ("/api/account/pins", ""),
    ("/api/account/session", ""),
    ("/api/account/sessions", ""),
    ("/api/account/signup-policy", ""),
    ("/api/admin/invites/list", ""),
    ("/api/admin/org-certificate/mine", ""),
    ("/api/admin/users", ""),
    ("/api/audit/heads", "after=0&limit=10"),
    ("/api/audit/key", ""),
    ("/api/audit/log", "from=1&limit=100"),
    ("/api/audit/mine", "after=0&limit=50"),
    ("/api/audit/system", "after=0&limit=50"),
    ("/api/health", ""),
    ("/api/records/heads", "after=0"),
    ("/api/records/seq", ""),
    ("/api/records/tree", ""),
    ("/api/records/versions", "node_id=VVVVVVVVVVVVVVVVVVVVVQ"),
    ("/api/sharing/grants", ""),
    (
        "/api/sharing/heads",
        "grant_id=VVVVVVVVVVVVVVVVVVVVVQ&after=0",
    ),
    ("/api/sharing/rotation/pending", ""),
    ("/api/sharing/requests", ""),
    ("/api/sharing/shared", "grant_id=VVVVVVVVVVVVVVVVVVVVVQ"),
];

pub(super) fn server_http() {
    let t = "server_http";
    let upload = &medvault_fuzz::accounts::world().upload;
    let chunk = vec![0u8; medvault_fuzz::accounts::CHUNK as usize + 16];
    write(t, "chunk_put", &with(0, &[&[0, 0], &chunk]));
    let path = format!("{}/{}/1", b64::encode(&upload.node_id), upload.version);
    write(
        t,
        "chunk_put_path",
        &with(0, &[&[1, path.len() as u8], path.as_bytes(), b"short body"]),
    );
    write(t, "chunk_put_no_session", &with(0, &[&[4, 3], b"body"]));
    // The target picks a function by its place in the sorted list of paths.
    let sorted = |m: server_fn::http_export::Method| {
        let mut paths: Vec<&str> = server_fn::axum::server_fn_paths()
            .filter(|(_, method)| *method == m)
            .map(|(p, _)| p)
            .collect();
        paths.sort_unstable();
        paths
    };
    for (i, path) in sorted(server_fn::http_export::Method::GET)
        .iter()
        .enumerate()
    {
        let query = QUERIES
            .iter()
            .find(|(p, _)| p == path)
            .map_or("", |(_, q)| q);
        if !query.is_empty() || i % 4 == 0 {
            let name = path.trim_start_matches("/api/").replace('/', "_");
            write(
                t,
                &format!("get_{name}"),
                &with(1, &[&[(i as u8) << 1], query.as_bytes()]),
            );
        }
    }
    // A node and the record's head, to the record functions that carry
    // signed states.
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
    let node = &tree.nodes[tree.nodes.len() - 1];
    let body = serde_json::json!({ "node": node, "head": tree.head });
    for (i, path) in sorted(server_fn::http_export::Method::POST)
        .iter()
        .enumerate()
    {
        if path.starts_with("/api/records/") {
            let name = path.trim_start_matches("/api/").replace('/', "_");
            write(
                t,
                &format!("post_{name}"),
                &with(2, &[&[i as u8], &json(&body)]),
            );
        }
    }
    write(
        t,
        "audit_head",
        &with(3, &[&[0, 0, 0, 0, 0, 0, 0, 5], &[9; 32]]),
    );
    write(t, "audit_head_short", &with(3, &[&[0, 0, 0, 5]]));
}
