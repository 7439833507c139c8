//! The mixed soak (issue 23): many simulated users sign in, upload, download,
//! share and revoke against the real server binary while it is killed with
//! SIGKILL at random moments and started again on the same data directory.
//! At the end, every upload whose finish was acknowledged must download byte
//! for byte, every acknowledged revocation must still hold, and the audit
//! chain must verify against the server's signed heads.
//!
//! `scripts/soak.sh [minutes]` runs it against the release build. Here (and in
//! CI) it runs briefly. Settings: `MEDVAULT_SOAK_SECONDS` (default 20),
//! `MEDVAULT_SOAK_PATIENTS` (3), `MEDVAULT_SOAK_DOCTORS` (2),
//! `MEDVAULT_SOAK_KILL_EVERY` (the longest gap between kills in seconds, 8;
//! the shortest is a third of it), `MEDVAULT_SOAK_PAUSE_MS` (the longest
//! pause between one user's actions, 0; the shortest is half of it) and
//! `MEDVAULT_SOAK_SEED` (replays the users' choices; the kill moments still
//! depend on timing).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::Child,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use common::{
    files::{content, open_file},
    patient::Patient,
    signing::entry,
    Client, Failure, PASSWORD,
};
use serde_json::json;
use shared::{
    api::{
        audit::{AuditPublicKey, HeadsPage, LogPage},
        records::chunk_path,
        sharing::{GrantStatus, GrantView, SharedScope},
        ErrorCode,
    },
    audit::verify_log,
    crypto::{audit_chain::ChainHead, b64, sign::Signed},
    model::{Id, Permission, Role},
    records::{OpenNode, OpenTree},
    sharing::{make_grant, open_grant, GrantChoice},
};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number"))
        })
        .unwrap_or(default)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The choices of the simulated users (xorshift64*: a schedule, not a key).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// The server process, always on the same loopback port.
struct Process {
    child: Option<Child>,
    addr: SocketAddr,
    data: tempfile::TempDir,
    site: tempfile::TempDir,
}

impl Process {
    fn new() -> Process {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(
            site.path().join("index.html"),
            "<!DOCTYPE html><html></html>",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Process {
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            data: tempfile::tempdir().unwrap(),
            site,
        }
    }

    /// Starts the binary and waits for the line with its URL.
    fn start(&mut self) {
        for attempt in 0.. {
            let mut child = spawn(self.site.path(), self.data.path(), self.addr);
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            if line.contains("http://") {
                self.child = Some(child);
                return;
            }
            // The port or the store's lock may still be held for a moment.
            let _ = child.wait();
            assert!(attempt < 50, "the server did not start again");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL, and the process reaped.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(site: &Path, data: &Path, addr: SocketAddr) -> Child {
    common::binary::command(site, data, &addr.to_string(), None, "error")
        .spawn()
        .unwrap()
}

/// An upload whose finish the server acknowledged: its content is
/// `content(marker, len)`.
#[derive(Clone)]
struct Acked {
    owner: usize,
    node: Id,
    marker: String,
    len: usize,
}

/// A grant as its patient saw it.
struct Grant {
    patient: usize,
    doctor: usize,
    id: Id,
    /// The revocation was sent (it may or may not have been applied).
    revoking: bool,
    /// The revocation was acknowledged: it must hold from then on.
    revoked: bool,
}

#[derive(Default)]
struct Counts {
    sign_ins: AtomicU64,
    uploads: AtomicU64,
    downloads: AtomicU64,
    shares: AtomicU64,
    revocations: AtomicU64,
    shared_reads: AtomicU64,
    refused_after_revoke: AtomicU64,
    /// Operations cut short by a kill (their outcome is unknown, not lost).
    interrupted: AtomicU64,
}

/// What every simulated user shares with the others.
struct Soak {
    /// Odd while the server is down; bumped at each kill and each restart.
    epoch: AtomicU64,
    counts: Counts,
    acked: Mutex<Vec<Acked>>,
    grants: Mutex<Vec<Grant>>,
    /// Failures no kill explains, and broken promises: each one fails the soak.
    faults: Mutex<Vec<String>>,
    names: Vec<String>,
    doctors: Vec<String>,
}

impl Soak {
    fn fault(&self, what: String) {
        eprintln!("soak: FAULT {what}");
        self.faults.lock().unwrap().push(what);
    }
}

fn is_unavailable(f: &Failure) -> bool {
    f.1.code == ErrorCode::Unavailable
}

fn err(f: Failure) -> String {
    format!("{} {:?}: {}", f.0, f.1.code, f.1.message)
}

/// Runs one user action as its own task, so that a panic inside the shared
/// test helpers (they unwrap) is caught as that action's failure. A failure
/// while the server was down or restarted is an interrupted action; any other
/// is a fault.
async fn act<F>(soak: &Arc<Soak>, what: &str, action: F)
where
    F: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let before = soak.epoch.load(Ordering::SeqCst);
    let outcome = match tokio::spawn(action).await {
        Ok(result) => result,
        Err(e) => Err(match e.try_into_panic() {
            Ok(payload) => payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned()),
            Err(e) => e.to_string(),
        }),
    };
    if let Err(e) = outcome {
        let after = soak.epoch.load(Ordering::SeqCst);
        if before % 2 == 1 || after != before || e.contains("transport:") {
            soak.counts.interrupted.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else {
            soak.fault(format!("{what}: {e}"));
        }
    }
}

/// A patient's or doctor's state, moved in and out of each action's task.
type Shared = Arc<tokio::sync::Mutex<Patient>>;

async fn sign_in(user: Shared, addr: SocketAddr) -> Result<(), String> {
    let mut u = user.lock().await;
    let c = Client::remote(addr);
    let (_, keyring) = c.sign_in(&u.name, PASSWORD).await;
    u.c = c;
    u.keyring = keyring;
    Ok(())
}

async fn folder(p: &Patient, name: &str) -> Result<OpenNode, String> {
    let tree = p.tree().await;
    Ok(common::patient::find(&tree, name).clone())
}

const FOLDERS: [&str; 3] = ["Lab results", "Prescriptions", "Notes"];

async fn upload(
    soak: Arc<Soak>,
    me: usize,
    user: Shared,
    n: u64,
    size: usize,
) -> Result<(), String> {
    let p = user.lock().await;
    let place = folder(&p, FOLDERS[n as usize % FOLDERS.len()]).await?;
    let marker = format!("soak-{me}-{n}");
    let bytes = content(&marker, size);
    let now = unix_now();
    let up = p
        .start_new(&place, "soak.bin", &bytes, now)
        .await
        .map_err(err)?;
    for (i, chunk) in up.file.chunks.iter().enumerate() {
        p.put(&up.node_id, up.ticket.version, i as u32, chunk.clone())
            .await
            .map_err(err)?;
    }
    p.finish(&up, now).await.map_err(err)?;
    soak.acked.lock().unwrap().push(Acked {
        owner: me,
        node: up.node_id,
        marker,
        len: size,
    });
    soak.counts.uploads.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Downloads an acknowledged file and compares it with what was sent.
async fn check_file(soak: &Soak, p: &Patient, file: &Acked) -> Result<(), String> {
    check_file_in(soak, p, &p.tree().await, file).await
}

/// [`check_file`] in a tree already fetched.
async fn check_file_in(
    soak: &Soak,
    p: &Patient,
    tree: &OpenTree,
    file: &Acked,
) -> Result<(), String> {
    let Some(node) = tree.node(&file.node) else {
        return Err(format!("{} is not in the record", b64::encode(&file.node)));
    };
    let Some(current) = node.view.current.clone() else {
        return Err(format!("{} has no version", b64::encode(&file.node)));
    };
    let got = p.download(node, &current).await;
    if got != content(&file.marker, file.len) {
        soak.fault(format!("{} downloaded different bytes", file.marker));
    }
    Ok(())
}

async fn download(soak: Arc<Soak>, me: usize, user: Shared, pick: u64) -> Result<(), String> {
    let mine: Vec<Acked> = soak
        .acked
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.owner == me)
        .cloned()
        .collect();
    let Some(file) = mine.get(pick as usize % mine.len().max(1)) else {
        return Ok(());
    };
    let p = user.lock().await;
    check_file(&soak, &p, file).await?;
    soak.counts.downloads.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn share(soak: Arc<Soak>, me: usize, user: Shared, doctor: usize) -> Result<(), String> {
    let open = soak
        .grants
        .lock()
        .unwrap()
        .iter()
        .any(|g| g.patient == me && g.doctor == doctor && !g.revoking);
    if open {
        return Ok(());
    }
    let p = user.lock().await;
    let labs = folder(&p, "Lab results").await?;
    let to = entry(&p.c, &soak.doctors[doctor]).await;
    let mine = entry(&p.c, &p.name).await;
    let choice = GrantChoice {
        doctor: to,
        node_id: *labs.id(),
        node_key: labs.key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: false,
    };
    let (grant, wrapped) =
        make_grant(&mine, p.keyring.identity(), &choice, unix_now()).map_err(|e| e.to_string())?;
    let made: Result<GrantView, Failure> = p
        .c
        .post(
            "/api/sharing/grant/create",
            &json!({"request": {"grant": grant, "wrapped_key": b64::encode(&wrapped), "request_id": null}}),
        )
        .await;
    let view = match made {
        Ok(view) => view,
        // A share made before a kill whose answer was lost: the server has
        // it, so the patient's list shows it; it counts from now on.
        Err(f) if f.1.code == ErrorCode::Conflict => {
            let listed: Vec<GrantView> = p.c.get("/api/sharing/grants").await.map_err(err)?;
            listed
                .into_iter()
                .find(|g| {
                    g.grant.value.doctor_id == choice.doctor.user_id
                        && g.grant.value.node_id == choice.node_id
                        && g.status == GrantStatus::Active
                })
                .ok_or_else(|| format!("409 for a share the list does not show: {}", f.1.message))?
        }
        Err(f) => return Err(err(f)),
    };
    soak.grants.lock().unwrap().push(Grant {
        patient: me,
        doctor,
        id: view.grant.value.grant_id,
        revoking: false,
        revoked: false,
    });
    soak.counts.shares.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn revoke(soak: Arc<Soak>, me: usize, user: Shared, pick: u64) -> Result<(), String> {
    let id = {
        let mut grants = soak.grants.lock().unwrap();
        let open: Vec<usize> = (0..grants.len())
            .filter(|&i| grants[i].patient == me && !grants[i].revoking)
            .collect();
        let Some(&i) = open.get(pick as usize % open.len().max(1)) else {
            return Ok(());
        };
        let id = grants[i].id;
        for g in grants.iter_mut().filter(|g| g.id == id) {
            g.revoking = true;
        }
        id
    };
    let p = user.lock().await;
    let answer: Result<GrantView, Failure> =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({"request": {"grant_id": b64::encode(&id)}}),
        )
        .await;
    match answer {
        Ok(_) => {}
        // Applied before a kill whose answer was lost: already revoked.
        Err(f) if f.1.code == ErrorCode::Conflict => {}
        Err(f) => return Err(err(f)),
    }
    for g in soak
        .grants
        .lock()
        .unwrap()
        .iter_mut()
        .filter(|g| g.id == id)
    {
        g.revoked = true;
    }
    soak.counts.revocations.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A doctor opens a grant made to them, as their browser does, and reads one
/// acknowledged file through it. An acknowledged revocation must hold.
async fn read_shared(soak: Arc<Soak>, me: usize, user: Shared, pick: u64) -> Result<(), String> {
    let (id, patient, revoking, revoked) = {
        let grants = soak.grants.lock().unwrap();
        let mine: Vec<&Grant> = grants.iter().filter(|g| g.doctor == me).collect();
        let Some(g) = mine.get(pick as usize % mine.len().max(1)) else {
            return Ok(());
        };
        (g.id, g.patient, g.revoking, g.revoked)
    };
    let d = user.lock().await;
    let answer: Result<SharedScope, Failure> =
        d.c.get(&format!(
            "/api/sharing/shared?grant_id={}",
            b64::encode(&id)
        ))
        .await;
    // The patient may start revoking between the look at the list above and
    // this answer, so a refusal is weighed against the list as it is now.
    let revoking_now = || {
        let grants = soak.grants.lock().unwrap();
        revoking || grants.iter().any(|g| g.id == id && g.revoking)
    };
    let scope = match answer {
        Err(f) if is_unavailable(&f) => return Err(err(f)),
        Err(f)
            if matches!(f.1.code, ErrorCode::NotFound | ErrorCode::Forbidden) && revoking_now() =>
        {
            if revoked {
                soak.counts
                    .refused_after_revoke
                    .fetch_add(1, Ordering::Relaxed);
            }
            return Ok(());
        }
        Err(f) => return Err(err(f)),
        Ok(scope) => scope,
    };
    if revoked {
        soak.fault(format!(
            "a doctor still opened grant {} after its revocation was acknowledged",
            b64::encode(&id)
        ));
        return Ok(());
    }
    let owner = entry(&d.c, &soak.names[patient]).await;
    let opened = open_grant(&scope.grant, &owner, &d.id, d.keyring.encryption())
        .map_err(|e| format!("the grant did not open: {e:?}"))?;
    let tree = OpenTree::open_from(
        owner.user_id,
        opened.grant.node_id,
        opened.node_key,
        scope.nodes,
        scope.usage,
    )
    .map_err(|e| format!("the shared folder did not open: {e:?}"))?;
    let files: Vec<Acked> = soak
        .acked
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.owner == patient && tree.node(&a.node).is_some())
        .cloned()
        .collect();
    let Some(file) = files.get(pick as usize % files.len().max(1)) else {
        return Ok(());
    };
    let node = tree.node(&file.node).unwrap();
    let version = node
        .view
        .current
        .clone()
        .ok_or("a shared file without a version")?;
    let mut chunks = Vec::new();
    for i in 0..version.manifest.value.part_hashes.len() as u32 {
        let (status, _, body) =
            d.c.get_bytes(&chunk_path(&version.node_id, version.version, i))
                .await;
        if status == 404 && revoking_now() {
            // The patient revoked the grant while the doctor was reading.
            return Ok(());
        }
        if status != 200 {
            return Err(format!(
                "chunk {i}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        chunks.push(body);
    }
    if open_file(&version, &owner.identity_key, &node.key, &chunks)
        != content(&file.marker, file.len)
    {
        soak.fault(format!("{} read through a grant differs", file.marker));
    }
    soak.counts.shared_reads.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn again(soak: Arc<Soak>, user: Shared, addr: SocketAddr) -> Result<(), String> {
    sign_in(user, addr).await?;
    soak.counts.sign_ins.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A pause between one user's actions (`MEDVAULT_SOAK_PAUSE_MS`), so that a
/// long soak does not grow each record past what a patient keeps.
fn pause(dice: &mut Dice) -> Duration {
    let most = setting("MEDVAULT_SOAK_PAUSE_MS", 0);
    Duration::from_millis(most / 2 + dice.below(most - most / 2 + 1))
}

async fn patient_loop(
    soak: Arc<Soak>,
    me: usize,
    user: Shared,
    addr: SocketAddr,
    until: Instant,
    seed: u64,
) {
    let mut dice = Dice(seed | 1);
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let (s, u) = (soak.clone(), user.clone());
        match dice.below(20) {
            0..=7 => {
                let size = 1 + dice.below(40_000) as usize;
                act(&soak, "upload", upload(s, me, u, n, size)).await
            }
            8..=12 => act(&soak, "download", download(s, me, u, dice.below(1 << 20))).await,
            13..=14 => {
                let doctor = dice.below(soak.doctors.len() as u64) as usize;
                act(&soak, "share", share(s, me, u, doctor)).await
            }
            15..=16 => act(&soak, "revoke", revoke(s, me, u, dice.below(1 << 20))).await,
            _ => act(&soak, "sign-in", again(s, u, addr)).await,
        }
        tokio::time::sleep(pause(&mut dice)).await;
    }
}

async fn doctor_loop(
    soak: Arc<Soak>,
    me: usize,
    user: Shared,
    addr: SocketAddr,
    until: Instant,
    seed: u64,
) {
    let mut dice = Dice(seed | 1);
    while Instant::now() < until {
        let (s, u) = (soak.clone(), user.clone());
        if dice.below(10) == 0 {
            act(&soak, "doctor sign-in", again(s, u, addr)).await;
        } else {
            act(
                &soak,
                "shared read",
                read_shared(s, me, u, dice.below(1 << 20)),
            )
            .await;
        }
        tokio::time::sleep(pause(&mut dice).max(Duration::from_millis(50))).await;
    }
}

/// Kills the server at random moments until `until`; answers the process and
/// the number of kills.
fn killer(
    mut process: Process,
    soak: Arc<Soak>,
    until: Instant,
    longest: u64,
    mut dice: Dice,
) -> (Process, u64) {
    let mut kills = 0;
    let longest_ms = longest.max(1) * 1000;
    loop {
        let wait = Duration::from_millis(longest_ms / 3 + dice.below(longest_ms - longest_ms / 3));
        if Instant::now() + wait >= until {
            return (process, kills);
        }
        std::thread::sleep(wait);
        soak.epoch.fetch_add(1, Ordering::SeqCst);
        process.kill();
        kills += 1;
        process.start();
        soak.epoch.fetch_add(1, Ordering::SeqCst);
    }
}

async fn signed_up(addr: SocketAddr, name: &str, invite: Option<String>) -> Patient {
    let c = Client::remote(addr);
    let (info, account) = c.signup(name, invite, unix_now()).await.unwrap();
    Patient {
        c,
        id: info.user_id,
        name: info.username,
        keyring: account.keyring,
    }
}

/// The whole audit log and its signed heads, verified with the server's key.
async fn verify_audit(auditor: &Client) -> shared::audit::Verified {
    let key: AuditPublicKey = auditor.get("/api/audit/key").await.unwrap();
    let mut heads: Vec<Signed<ChainHead>> = Vec::new();
    loop {
        let after = heads.last().map_or(0, |h| h.value.seq);
        let page: HeadsPage = auditor
            .get(&format!("/api/audit/heads?after={after}&limit=1000"))
            .await
            .unwrap();
        if page.heads.is_empty() {
            break;
        }
        heads.extend(page.heads);
    }
    let mut entries = Vec::new();
    loop {
        let page: LogPage = auditor
            .get(&format!(
                "/api/audit/log?from={}&limit=1000",
                entries.len() + 1
            ))
            .await
            .unwrap();
        if page.entries.is_empty() {
            break;
        }
        entries.extend(page.entries);
    }
    verify_log(&key.key, &heads, &entries)
        .unwrap_or_else(|e| panic!("the audit chain does not verify: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_mixed_load_with_kills() {
    // The helpers' panics inside actions are outcomes, counted; not noise.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let worker = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("tokio-r"));
        if !worker {
            default_hook(info);
        }
    }));
    let seconds = setting("MEDVAULT_SOAK_SECONDS", 20);
    let patients = setting("MEDVAULT_SOAK_PATIENTS", 3) as usize;
    let doctors = setting("MEDVAULT_SOAK_DOCTORS", 2).max(1) as usize;
    let kill_every = setting("MEDVAULT_SOAK_KILL_EVERY", 8);
    let seed = setting(
        "MEDVAULT_SOAK_SEED",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    println!("soak: {seconds} s, {patients} patients, {doctors} doctors, a kill every {}-{kill_every} s, pauses up to {} ms, MEDVAULT_SOAK_SEED={seed}", kill_every / 3, setting("MEDVAULT_SOAK_PAUSE_MS", 0));

    let mut process = Process::new();
    let invites = server::backend::InviteKey::load_or_create(process.data.path()).unwrap();
    process.start();
    let addr = process.addr;
    let invite = |role| Some(invites.make_code(role, unix_now() + 24 * 3600).unwrap());

    Client::remote(addr)
        .signup("soak.auditor", invite(Role::Auditor), unix_now())
        .await
        .unwrap();
    let mut doctor_users = Vec::new();
    for i in 0..doctors {
        doctor_users.push(signed_up(addr, &format!("dr.soak{i}"), invite(Role::Doctor)).await);
    }
    let mut patient_users = Vec::new();
    for i in 0..patients {
        let p = signed_up(addr, &format!("patient.soak{i}"), None).await;
        p.create_record(unix_now()).await;
        patient_users.push(p);
    }
    let soak = Arc::new(Soak {
        epoch: AtomicU64::new(0),
        counts: Counts::default(),
        acked: Mutex::new(Vec::new()),
        grants: Mutex::new(Vec::new()),
        faults: Mutex::new(Vec::new()),
        names: patient_users.iter().map(|p| p.name.clone()).collect(),
        doctors: doctor_users.iter().map(|d| d.name.clone()).collect(),
    });
    let patient_users: Vec<Shared> = patient_users
        .into_iter()
        .map(|p| Arc::new(tokio::sync::Mutex::new(p)))
        .collect();
    let doctor_users: Vec<Shared> = doctor_users
        .into_iter()
        .map(|d| Arc::new(tokio::sync::Mutex::new(d)))
        .collect();

    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut dice = Dice(seed | 1);
    let mut tasks = Vec::new();
    for (i, p) in patient_users.iter().enumerate() {
        tasks.push(tokio::spawn(patient_loop(
            soak.clone(),
            i,
            p.clone(),
            addr,
            until,
            dice.below(u64::MAX),
        )));
    }
    for (i, d) in doctor_users.iter().enumerate() {
        tasks.push(tokio::spawn(doctor_loop(
            soak.clone(),
            i,
            d.clone(),
            addr,
            until,
            dice.below(u64::MAX),
        )));
    }
    let kill_dice = Dice(dice.below(u64::MAX) | 1);
    let s = soak.clone();
    let kills = std::thread::spawn(move || killer(process, s, until, kill_every, kill_dice));
    let mut last_report = Instant::now();
    while tasks.iter().any(|t| !t.is_finished()) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if last_report.elapsed() >= Duration::from_secs(60) {
            last_report = Instant::now();
            report(&soak, started.elapsed().as_secs());
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (mut process, kills) = kills.join().unwrap();

    // A last kill right after the load: what was acknowledged must be there.
    process.kill();
    process.start();
    let mut lost = Vec::new();
    for (i, user) in patient_users.iter().enumerate() {
        let mut p = user.lock().await;
        let c = Client::remote(addr);
        let (_, keyring) = c.sign_in(&p.name, PASSWORD).await;
        p.c = c;
        p.keyring = keyring;
        let mine: Vec<Acked> = soak
            .acked
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.owner == i)
            .cloned()
            .collect();
        let tree = p.tree().await;
        for file in &mine {
            if let Err(e) = check_file_in(&soak, &p, &tree, file).await {
                lost.push(format!("{}: {e}", file.marker));
            }
        }
    }
    let revoked: Vec<(usize, Id)> = soak
        .grants
        .lock()
        .unwrap()
        .iter()
        .filter(|g| g.revoked)
        .map(|g| (g.doctor, g.id))
        .collect();
    let mut by_doctor: HashMap<usize, Client> = HashMap::new();
    for (doctor, id) in &revoked {
        let c = match by_doctor.get(doctor) {
            Some(c) => c.clone(),
            None => {
                let name = &soak.doctors[*doctor];
                let c = Client::remote(addr);
                c.sign_in(name, PASSWORD).await;
                by_doctor.insert(*doctor, c.clone());
                c
            }
        };
        let answer: Result<SharedScope, Failure> = c
            .get(&format!("/api/sharing/shared?grant_id={}", b64::encode(id)))
            .await;
        if answer.is_ok() {
            soak.fault(format!(
                "grant {} opened after its acknowledged revocation and a restart",
                b64::encode(id)
            ));
        }
    }
    // Signed in afresh: the first session has long passed its idle timeout.
    let auditor = Client::remote(addr);
    auditor.sign_in("soak.auditor", PASSWORD).await;
    let verified = verify_audit(&auditor).await;
    let elapsed = started.elapsed().as_secs();
    report(&soak, elapsed);
    let acked = soak.acked.lock().unwrap().len();
    println!(
        "soak: {elapsed} s, {kills} kills, {acked} uploads acknowledged, {} lost, {} revocations checked after the last restart, audit chain of {} events and {} signed heads verifies, {} faults",
        lost.len(),
        revoked.len(),
        verified.events,
        verified.heads,
        soak.faults.lock().unwrap().len(),
    );
    assert!(lost.is_empty(), "acknowledged uploads lost: {lost:#?}");
    let faults = soak.faults.lock().unwrap().clone();
    assert!(faults.is_empty(), "faults: {faults:#?}");
    assert!(
        acked > 0,
        "no upload was acknowledged: the soak tested nothing"
    );
}

fn report(soak: &Soak, elapsed: u64) {
    let c = &soak.counts;
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "soak: at {elapsed} s: {} uploads, {} downloads, {} shares, {} revocations, {} shared reads, {} refused after revocation, {} sign-ins, {} interrupted by kills, {} faults",
        n(&c.uploads),
        n(&c.downloads),
        n(&c.shares),
        n(&c.revocations),
        n(&c.shared_reads),
        n(&c.refused_after_revoke),
        n(&c.sign_ins),
        n(&c.interrupted),
        soak.faults.lock().unwrap().len(),
    );
}
