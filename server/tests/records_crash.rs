//! `kill -9` during concurrent uploads, against the real binary: after a
//! restart on the same data directory every upload whose finish was
//! acknowledged is listed and downloads intact (manifest signature, every
//! chunk's hash, decryption, padding), and nothing is listed as complete whose
//! finish was never sent.
//!
//! Each cycle starts the server, runs uploader threads (new files and new
//! versions, a few chunks each), kills the server with SIGKILL once some
//! uploads are acknowledged, restarts it and checks. `MEDVAULT_CRASH_CYCLES`
//! sets the number of cycles (default 3).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::{HashMap, HashSet},
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    process::Child,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use common::files::{content, manifest, metadata, open_file, seal_file, wrapped_content_key};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::json;
use shared::{
    api::{
        account::{SessionInfo, SignupStarted},
        records::{chunk_path, NodeKind, NodeView, RecordTree, UploadTicket, VersionView},
        CSRF_HEADER, SESSION_COOKIE,
    },
    client::Signup,
    crypto::{aead::Key256, b64, sign::SigningKey},
    model::Id,
    records::{
        new_file_node, new_record, seal_metadata, NodeState, OpenNode, OpenTree, RecordHead,
        StreamLayout,
    },
};

const CHUNK: u32 = 4096;
const THREADS: usize = 6;
/// Uploads acknowledged in a cycle before the kill may come.
const ACKS_BEFORE_KILL: usize = 4;

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!DOCTYPE html><html></html>",
    )
    .unwrap();
    dir
}

fn start(site: &Path, data: &Path, store: Option<&str>) -> (Child, String) {
    let mut child = common::binary::command(site, data, "127.0.0.1:0", store, "error")
        .spawn()
        .unwrap();
    let url = common::binary::read_url(&mut child);
    (child, common::binary::host_port(&url))
}

/// A blocking HTTP/1.1 client speaking to the server as the app does.
#[derive(Clone)]
struct Http {
    addr: String,
    cookie: Arc<Mutex<Option<String>>>,
}

struct Answer {
    status: u16,
    body: Vec<u8>,
}

fn unchunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..end]).ok()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

impl Http {
    fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> std::io::Result<Answer> {
        let broken =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut s = TcpStream::connect(&self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n{CSRF_HEADER}: 1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len(),
            addr = self.addr
        );
        if let Some(c) = self.cookie.lock().unwrap().as_deref() {
            head.push_str(&format!("Cookie: {SESSION_COOKIE}={c}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| broken("no header end"))?;
        let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = headers.lines();
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| broken("no status"))?;
        let mut length = None;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "set-cookie" {
                if let Some(v) = value.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                    let token = v.split(';').next().unwrap_or("").to_owned();
                    *self.cookie.lock().unwrap() = (!token.is_empty()).then_some(token);
                }
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                body = unchunk(&body).ok_or_else(|| broken("bad chunked body"))?;
            } else if name == "content-length" {
                length = value.parse::<usize>().ok();
            }
        }
        if length.is_some_and(|n| n != body.len()) {
            return Err(broken("short body"));
        }
        Ok(Answer { status, body })
    }

    fn call<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, String> {
        let a = self
            .send(
                "POST",
                path,
                "application/json",
                &serde_json::to_vec(body).unwrap(),
            )
            .map_err(|e| e.to_string())?;
        if a.status != 200 {
            return Err(format!(
                "{path}: {} {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            ));
        }
        serde_json::from_slice(&a.body).map_err(|e| e.to_string())
    }

    fn get<R: DeserializeOwned>(&self, path: &str) -> R {
        let a = self.send("GET", path, "application/json", &[]).unwrap();
        assert_eq!(
            a.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        serde_json::from_slice(&a.body).unwrap()
    }
}

/// What the uploaders did, as they saw it.
#[derive(Default)]
struct Log {
    /// Every version whose finish was sent, with its file bytes.
    sent: HashMap<(Id, u32), Vec<u8>>,
    /// The versions whose finish was answered with success.
    acked: HashSet<(Id, u32)>,
}

struct Uploader {
    http: Http,
    owner: Id,
    identity: SigningKey,
    folder: OpenNode,
    log: Arc<Mutex<Log>>,
    /// This thread's own finished files, for new versions.
    mine: Vec<(Id, Key256)>,
}

impl Uploader {
    /// One upload; `Err` once the server is gone.
    fn upload(&mut self, n: usize, tag: &str) -> Result<(), String> {
        let bytes = content(&format!("crash-{tag}-{n}"), 1 + (n * 7919) % 20_000);
        let now = 1_750_000_000;
        let (node_id, node_key, new_node) = match self.mine.last() {
            Some((id, key)) if n % 3 == 2 => (*id, key.clone(), None),
            _ => {
                let (node, key) =
                    new_file_node(&self.folder, &metadata("f", now, Some(bytes.len() as u64)))
                        .unwrap();
                (node.node_id, key, Some(node))
            }
        };
        let len = StreamLayout::new(bytes.len() as u64, CHUNK)
            .unwrap()
            .ciphertext_len();
        let ticket: UploadTicket = self.http.call(
            "/api/records/upload/start",
            &json!({"request": {"node_id": b64::encode(&node_id), "new_node": new_node, "chunk_size": CHUNK, "ciphertext_len": len}}),
        )?;
        let version = ticket.version;
        let file = seal_file(&node_id, version, CHUNK, &bytes);
        for (i, chunk) in file.chunks.iter().enumerate() {
            let a = self
                .http
                .send(
                    "PUT",
                    &chunk_path(&node_id, version, i as u32),
                    "application/octet-stream",
                    chunk,
                )
                .map_err(|e| e.to_string())?;
            if a.status != 200 {
                return Err(format!("chunk: {}", a.status));
            }
        }
        let signed = manifest(
            &self.identity,
            &self.owner,
            &node_id,
            self.folder.id(),
            version,
            &file,
            now,
        );
        let meta = seal_metadata(
            &node_key,
            &node_id,
            &metadata("f", now, Some(bytes.len() as u64)),
        )
        .unwrap();
        let wrapped = wrapped_content_key(&node_key, &node_id, version, &file);
        let len = bytes.len();
        self.log
            .lock()
            .unwrap()
            .sent
            .insert((node_id, version), bytes);
        // The node's signed state and the record's next head, over the record
        // as it is now: another thread's finish may come first (409), and
        // then this one signs again over the newer record, as a browser does.
        loop {
            let a = self
                .http
                .send("GET", "/api/records/tree", "application/json", &[])
                .map_err(|e| e.to_string())?;
            if a.status != 200 {
                return Err(format!("tree: {}", a.status));
            }
            let tree: Option<RecordTree> =
                serde_json::from_slice(&a.body).map_err(|e| e.to_string())?;
            let tree = tree.ok_or("no record")?;
            let mut view = match &new_node {
                Some(n) => common::patient::new_file_base(n),
                None => tree
                    .nodes
                    .iter()
                    .find(|v| v.node_id == node_id)
                    .cloned()
                    .ok_or("the file is gone")?,
            };
            view.metadata = meta.clone();
            view.revision += 1;
            view.version_count += 1;
            view.current = Some(VersionView {
                node_id,
                version,
                chunk_size: CHUNK,
                ciphertext_len: StreamLayout::new(len as u64, CHUNK)
                    .unwrap()
                    .ciphertext_len(),
                wrapped_content_key: wrapped.clone(),
                manifest: signed.clone(),
                author_id: self.owner,
                author_name: String::new(),
                stored_at: now,
                write_grant: None,
            });
            let state =
                NodeState::describe(self.owner, &view, self.owner, now).sign(&self.identity);
            let leaves = common::signing::leaves_with(&tree, std::slice::from_ref(&state), &[]);
            let head = RecordHead::next(tree.head.as_ref().ok_or("no head")?, &leaves, now)
                .sign(&self.identity);
            let body = json!({"request": {
                "node_id": b64::encode(&node_id),
                "version": version,
                "wrapped_content_key": b64::encode(&wrapped),
                "manifest": signed,
                "metadata": b64::encode(&meta),
                "state": state,
                "head": head,
            }});
            let a = self
                .http
                .send(
                    "POST",
                    "/api/records/upload/finish",
                    "application/json",
                    &serde_json::to_vec(&body).unwrap(),
                )
                .map_err(|e| e.to_string())?;
            if a.status == 409 && String::from_utf8_lossy(&a.body).contains("changed meanwhile") {
                continue;
            }
            if a.status != 200 {
                return Err(format!(
                    "finish: {} {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                ));
            }
            let _: NodeView = serde_json::from_slice(&a.body).map_err(|e| e.to_string())?;
            break;
        }
        self.log.lock().unwrap().acked.insert((node_id, version));
        if version == 1 {
            self.mine.push((node_id, node_key));
        }
        Ok(())
    }
}

/// Everything the restarted server lists verifies and is what was sent; every
/// acknowledged version is there.
fn check(http: &Http, log: &Log, keyring: &shared::crypto::keyring::Keyring) -> usize {
    let tree: Option<RecordTree> = http.get("/api/records/tree");
    let tree = OpenTree::open(tree.unwrap(), keyring.encryption()).unwrap();
    assert!(
        tree.unreadable.is_empty(),
        "unreadable nodes after the crash"
    );
    let author = keyring.identity().verifying_key();
    let mut listed = HashSet::new();
    for node in tree.nodes().filter(|n| n.view.kind == NodeKind::File) {
        let versions: Vec<VersionView> = http.get(&format!(
            "/api/records/versions?node_id={}",
            b64::encode(node.id())
        ));
        assert!(!versions.is_empty());
        assert_eq!(node.view.version_count as usize, versions.len());
        for version in &versions {
            let key = (*node.id(), version.version);
            let sent = log.sent.get(&key).unwrap_or_else(|| {
                panic!(
                    "version {} is complete but its finish was never sent",
                    version.version
                )
            });
            let count = shared::crypto::stream::chunk_count(
                version.manifest.value.size,
                version.chunk_size,
            )
            .unwrap();
            let mut chunks = Vec::new();
            for i in 0..count as u32 {
                let a = http
                    .send("GET", &chunk_path(node.id(), version.version, i), "", &[])
                    .unwrap();
                assert_eq!(a.status, 200, "chunk {i} of a complete version");
                chunks.push(a.body);
            }
            assert_eq!(&open_file(version, &author, &node.key, &chunks), sent);
            listed.insert(key);
        }
    }
    for acked in &log.acked {
        assert!(listed.contains(acked), "an acknowledged upload is missing");
    }
    listed.len()
}

#[test]
fn acknowledged_uploads_survive_sigkill_during_concurrent_uploads() {
    let cycles: usize = std::env::var("MEDVAULT_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let site = site();
    let data = tempfile::tempdir().unwrap();
    // On a PostgreSQL run the server keeps everything in a schema of the
    // test cluster, which outlives every kill.
    let store = common::postgres::selected()
        .then(|| common::postgres::schema_url_blocking(&common::postgres::unique_schema("rc")));
    let (mut child, addr) = start(site.path(), data.path(), store.as_deref());
    let mut http = Http {
        addr,
        cookie: Arc::new(Mutex::new(None)),
    };

    // Sign up and make the record with the real client steps.
    let (signup, start_req) = Signup::start("crash.test", common::PASSWORD, None).unwrap();
    let started: SignupStarted = http
        .call(
            "/api/account/signup/start",
            &json!({ "request": start_req }),
        )
        .unwrap();
    let mut account = signup.finish(&started, now()).unwrap();
    // The record is made below with records/create, as the crash writer's
    // record is; the sign-up carries none.
    account.request.record = None;
    let info: SessionInfo = http
        .call(
            "/api/account/signup/finish",
            &json!({ "request": account.request }),
        )
        .unwrap();
    let keyring = account.keyring;
    let made = new_record(
        &info.user_id,
        &keyring.encryption().public_key(),
        keyring.identity(),
        shared::crypto::rng::id().unwrap(),
        now(),
    )
    .unwrap();
    let tree: RecordTree = http
        .call(
            "/api/records/create",
            &json!({"root": made.root, "children": made.children, "head": made.head}),
        )
        .unwrap();
    let tree = OpenTree::open(tree, keyring.encryption()).unwrap();
    let folder = tree
        .nodes()
        .find(|n| n.metadata.name == "Notes")
        .unwrap()
        .clone();

    let log = Arc::new(Mutex::new(Log::default()));
    let mut seed = now() as u64 | 1;
    for cycle in 0..cycles {
        let acked_before = log.lock().unwrap().acked.len();
        let mut handles = Vec::new();
        for t in 0..THREADS {
            let mut uploader = Uploader {
                http: http.clone(),
                owner: info.user_id,
                identity: SigningKey::from_seed(&keyring.identity().seed()),
                folder: folder.clone(),
                log: log.clone(),
                mine: Vec::new(),
            };
            handles.push(thread::spawn(move || {
                let tag = format!("{cycle}-{t}");
                for n in 0.. {
                    if uploader.upload(n, &tag).is_err() {
                        return;
                    }
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while log.lock().unwrap().acked.len() < acked_before + ACKS_BEFORE_KILL {
            assert!(Instant::now() < deadline, "no uploads were acknowledged");
            thread::sleep(Duration::from_millis(5));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        thread::sleep(Duration::from_millis(seed % 150));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        for h in handles {
            h.join().unwrap();
        }

        let (next, addr) = start(site.path(), data.path(), store.as_deref());
        child = next;
        http.addr = addr;
        let log = log.lock().unwrap();
        let listed = check(&http, &log, &keyring);
        eprintln!(
            "cycle {cycle}: {} acknowledged, {} finishes sent, {listed} versions listed",
            log.acked.len(),
            log.sent.len()
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
