//! Command line of the medvault server. Each sub-command parses its flags and
//! hands over to the library; nothing else lives here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod org_key;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use org_key::OrgKeyCommand;
use server::{
    app::Limits,
    backend::{invites::create_admin_invite, AccountSettings, RecordsConfig},
    overload::ClassLimits,
    proxy::IpNet,
    serve::{serve, ServeConfig},
};
use shared::model::Role;

/// medvault: end-to-end encrypted medical records. The server stores only
/// ciphertext and can read nothing.
#[derive(Debug, Parser)]
#[command(name = "medvault-server", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API and the built app until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Print a one-time invite link for a new admin account (valid 24 hours).
    /// Works while the server is running on the same data directory.
    CreateAdminInvite(InviteArgs),
    /// The installation's org key, kept off the server: make it, show its
    /// fingerprint, certify admins. `serve` never reads it.
    #[command(subcommand)]
    OrgKey(OrgKeyCommand),
    /// Manage the key that signs the audit log (kept outside the data directory).
    #[command(subcommand)]
    AuditKey(AuditKeyCommand),
    /// Copy the embedded store into an empty PostgreSQL database and check
    /// the copy (counts and hashes). Stop the server first; keep its key files.
    Migrate(MigrateArgs),
    /// Rewrite the embedded store with only its live data, so that nothing
    /// deleted (a deleted account's keys and metadata) stays in its files.
    /// Stop the server first.
    Compact(CompactArgs),
}

#[derive(Debug, clap::Args)]
struct CompactArgs {
    /// Directory of the embedded store (the stopped server's --data).
    #[arg(long = "data", env = "MEDVAULT_DATA", default_value = "./data")]
    data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// The data directory of the stopped server (its --data).
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL connection string the servers will use (--store).
    #[arg(long, value_parser = parse_store)]
    to: String,
    /// The object store the servers will keep chunks in (--blobs), if any.
    #[arg(long, value_parser = parse_blobs)]
    blobs: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AuditKeyCommand {
    /// Make a new audit signing key in FILE (mode 0600; never overwrites) and
    /// print its public key and fingerprint. Give the file to `serve
    /// --audit-key-file`, and publish the fingerprint to your auditors.
    Init {
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct InviteArgs {
    /// Directory of the embedded store (the server's --data).
    #[arg(long = "data", env = "MEDVAULT_DATA", default_value = "./data")]
    data_dir: PathBuf,
    /// The address people open the app at, for the printed link.
    #[arg(
        long,
        env = "MEDVAULT_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, env = "MEDVAULT_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory of the embedded sled store; created if missing. With
    /// --store postgres://..., it holds only the server's key files, which
    /// every server of one installation must share.
    #[arg(long = "data", env = "MEDVAULT_DATA", default_value = "./data")]
    data_dir: PathBuf,
    /// Where records and accounts live: a PostgreSQL connection string
    /// (postgres://user@host/db) for several servers on one database; by
    /// default the embedded sled store in --data.
    #[arg(long, env = "MEDVAULT_STORE", value_parser = parse_store)]
    store: Option<String>,
    /// Where chunks go with --store: an object store, file:///directory or
    /// s3://bucket (endpoint and credentials from AWS_* variables); without
    /// it, in the database.
    #[arg(long, env = "MEDVAULT_BLOBS", requires = "store", value_parser = parse_blobs)]
    blobs: Option<String>,
    /// With --store: this server's TOTP and audit key files become the ones
    /// every server on the database must have (after replacing them on all).
    #[arg(long, requires = "store")]
    accept_new_key_files: bool,
    /// Connections to PostgreSQL this server keeps open at most.
    #[arg(long, env = "MEDVAULT_STORE_CONNECTIONS", default_value_t = server::store::postgres::DEFAULT_POOL_SIZE as u16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    store_connections: u16,
    /// Directory of the built app (the output of `trunk build`), served at `/`.
    #[arg(long = "site", env = "MEDVAULT_SITE", default_value = "./dist")]
    site_dir: PathBuf,
    /// PEM file with the TLS certificate chain; turns on HTTPS and HSTS.
    #[arg(long, env = "MEDVAULT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM file with the TLS private key for --tls-cert.
    #[arg(long, env = "MEDVAULT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest JSON request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "MEDVAULT_MAX_BODY_BYTES", default_value_t = Limits::default().max_json_body)]
    max_body_bytes: usize,
    /// Seconds a request may take from its headers to the answer, the body
    /// included (60 lets a 4 MiB chunk through at about 70 KB/s); slower
    /// requests get 408. Headers must arrive within this too (at most 20 s).
    #[arg(long, env = "MEDVAULT_REQUEST_TIMEOUT_SECS", default_value_t = Limits::default().request_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout_secs: u64,
    /// Only invited people may create accounts (patients too).
    #[arg(long, conflicts_with = "open_signup")]
    no_open_signup: bool,
    /// Whether patients may sign up without an invite (`false` = --no-open-signup).
    #[arg(long, env = "MEDVAULT_OPEN_SIGNUP", hide = true)]
    open_signup: Option<bool>,
    /// A session ends after this many seconds without a request.
    #[arg(long, env = "MEDVAULT_IDLE_TIMEOUT_SECS", default_value_t = AccountSettings::default().idle_timeout_secs)]
    idle_timeout_secs: u64,
    /// A session ends this many seconds after sign-in, however busy.
    #[arg(long, env = "MEDVAULT_SESSION_LIFETIME_SECS", default_value_t = AccountSettings::default().absolute_lifetime_secs)]
    session_lifetime_secs: u64,
    /// Roles that must use a second factor, e.g. `doctor,admin` (any of
    /// patient, doctor, admin, auditor): such a user without one is led to set
    /// it up at the next sign-in, and nothing else works until it is on.
    #[arg(
        long,
        value_name = "ROLES",
        env = "MEDVAULT_REQUIRE_SECOND_FACTOR",
        value_delimiter = ',',
        value_parser = parse_role
    )]
    require_second_factor: Vec<Role>,
    /// Bytes each account may store (file content of every version, unfinished
    /// uploads and encrypted details); default 10 GiB.
    #[arg(long, env = "MEDVAULT_QUOTA_BYTES", default_value_t = RecordsConfig::default().quota_bytes)]
    quota_bytes: u64,
    /// OPAQUE exchanges (sign-in, sign-up, recovery) served at once; more wait
    /// briefly, then get 503. Default: 8 per core.
    #[arg(long, env = "MEDVAULT_MAX_CONCURRENT_SIGN_IN")]
    max_concurrent_sign_in: Option<usize>,
    /// Other API calls served at once. Default: 32 per core.
    #[arg(long, env = "MEDVAULT_MAX_CONCURRENT_API")]
    max_concurrent_api: Option<usize>,
    /// Chunk reads served at once (each holds its chunk). Default: 32 per core.
    #[arg(long, env = "MEDVAULT_MAX_CONCURRENT_CHUNK_READS")]
    max_concurrent_chunk_reads: Option<usize>,
    /// Chunk uploads served at once (each holds its body). Default: 16 per core.
    #[arg(long, env = "MEDVAULT_MAX_CONCURRENT_CHUNK_WRITES")]
    max_concurrent_chunk_writes: Option<usize>,
    /// Files of the app served at once. Default: 32 per core.
    #[arg(long, env = "MEDVAULT_MAX_CONCURRENT_STATIC")]
    max_concurrent_static: Option<usize>,
    /// How long a request may wait for room in its class before it gets 503.
    #[arg(long, env = "MEDVAULT_QUEUE_WAIT_MS", default_value_t = 2000)]
    queue_wait_ms: u64,
    /// The largest file accepted, in bytes; default 2 GiB.
    #[arg(long, env = "MEDVAULT_MAX_FILE_BYTES", default_value_t = RecordsConfig::default().max_file_bytes)]
    max_file_bytes: u64,
    /// The address browsers use, behind a reverse proxy (e.g.
    /// https://medvault.example.org): requests must come from this origin, and an
    /// https origin makes the session cookie Secure.
    #[arg(long, env = "MEDVAULT_PUBLIC_ORIGIN", value_parser = parse_origin)]
    public_origin: Option<String>,
    /// Serve plain HTTP on an address other than loopback without an https
    /// --public-origin. Refused without this flag: sessions would cross the
    /// network unencrypted. Only for a network you trust completely.
    #[arg(long, env = "MEDVAULT_INSECURE_HTTP")]
    insecure_http: bool,
    /// An SMTP relay for notification e-mail: smtp://host:port (plain, for a
    /// relay on this machine), smtp://host?tls=required (STARTTLS) or
    /// smtps://host (TLS); user and password in the URL if it wants them.
    /// Without it no e-mail is sent. The message says only that there is a
    /// new notification.
    #[arg(long, env = "MEDVAULT_SMTP_URL", requires = "smtp_from")]
    smtp_url: Option<String>,
    /// The sender of notification e-mail, e.g. "medvault <noreply@clinic.example>".
    #[arg(long, env = "MEDVAULT_SMTP_FROM", requires = "smtp_url")]
    smtp_from: Option<String>,
    /// A reverse proxy (an IP address or a CIDR network, e.g. 10.0.0.0/8) whose
    /// X-Forwarded-For header names the client; repeat for several. Sign-in
    /// limits per client address then use the right-most address in that header
    /// that is not a trusted proxy. Without this flag the header is ignored and
    /// the connection's address is used, so behind a proxy give its address here.
    #[arg(
        long = "trusted-proxy",
        value_name = "IP_OR_CIDR",
        env = "MEDVAULT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<IpNet>,
    /// The file with the key that seals TOTP secrets at rest (32 bytes, made with
    /// mode 0600 on first start). Keep it out of the data directory's backups, and
    /// back it up separately: without it no second factor can be checked.
    /// Default: `<data-dir>.totp-key`, beside the data directory.
    #[arg(long, env = "MEDVAULT_TOTP_KEY_FILE")]
    totp_key_file: Option<PathBuf>,
    /// The file with the key that signs the audit log (made with `audit-key
    /// init`, or with mode 0600 on first start). Keep it out of the data
    /// directory and its backups, and back it up separately: auditors refuse
    /// heads signed by any other key. Default: `<data-dir>.audit-key`, beside
    /// the data directory.
    #[arg(long, env = "MEDVAULT_AUDIT_KEY_FILE")]
    audit_key_file: Option<PathBuf>,
    /// For end-to-end tests only: a file holding seconds to add to the clock,
    /// re-read continuously, so expiry can be tested without waiting. Exists
    /// only in builds with the `test-clock` feature.
    #[cfg(feature = "test-clock")]
    #[arg(long, env = "MEDVAULT_TEST_CLOCK_FILE", hide = true)]
    test_clock_file: Option<PathBuf>,
}

/// A role by its name, as `--require-second-factor` lists them.
fn parse_role(text: &str) -> Result<Role, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "patient" => Ok(Role::Patient),
        "doctor" => Ok(Role::Doctor),
        "admin" => Ok(Role::Admin),
        "auditor" => Ok(Role::Auditor),
        other => Err(format!(
            "'{other}' is not a role: give any of patient, doctor, admin, auditor"
        )),
    }
}

/// Accepts `http(s)://host[:port]` with nothing after it but an optional `/`.
fn parse_store(text: &str) -> Result<String, String> {
    if server::store::postgres::is_postgres_url(text) {
        Ok(text.to_owned())
    } else {
        // Never echo the value: a connection string may hold a password.
        Err(
            "give a PostgreSQL connection string (postgres://user@host:port/db); \
             leave --store out to use the embedded store in --data"
                .into(),
        )
    }
}

fn parse_blobs(text: &str) -> Result<String, String> {
    if server::store::blobs::is_blobs_url(text) {
        Ok(text.to_owned())
    } else {
        Err("give file:///absolute/directory or s3://bucket".into())
    }
}

fn parse_origin(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or("the origin must start with https:// or http://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(
            "give only the scheme, host and port, e.g. https://medvault.example.org".into(),
        );
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// The wall clock, Unix seconds.
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Makes the invite and prints its link once.
fn print_admin_invite(args: &InviteArgs) -> Result<(), server::serve::ServeError> {
    let now = now_unix();
    let invite = create_admin_invite(&args.data_dir, &args.base_url, now).map_err(|e| {
        server::serve::ServeError::Store {
            path: args.data_dir.clone(),
            reason: e.to_string(),
        }
    })?;
    println!("{}", invite.link);
    println!(
        "This link creates one admin account. It works once and expires in 24 hours. It is not shown again."
    );
    Ok(())
}

/// Makes the audit key file and prints its public key and fingerprint.
fn init_audit_key(out: &std::path::Path) -> Result<(), server::serve::ServeError> {
    use server::backend::audit::key;
    let made = key::init_file(out)?;
    let (public, fingerprint) = key::describe(&made);
    println!("Audit key written to {}", out.display());
    println!("Public key:  {public}");
    println!("Fingerprint: {fingerprint}");
    println!(
        "Give auditors this fingerprint through a channel other than the server; they compare it with the one on their Audit log page."
    );
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MEDVAULT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::OrgKey(command) = cli.command {
        // Offline work: no runtime, no store.
        return match org_key::run(command, now_unix()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Migrate(args) = &cli.command {
        return match runtime.block_on(server::migrate::migrate(
            &args.from,
            &args.to,
            args.blobs.as_deref(),
            4,
        )) {
            Ok(report) => {
                for r in report {
                    let digest: String = r.digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                    println!(
                        "{:<9} {:>10} keys {:>14} bytes  sha256 {digest}…  same in both",
                        r.space.name(),
                        r.keys,
                        r.bytes
                    );
                }
                println!(
                    "moved and checked. Start the servers with --store and the same key files \
                     (invite.key in --data, the .totp-key and .audit-key files)."
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(async {
            let mailer = match (&args.smtp_url, &args.smtp_from) {
                (Some(url), Some(from)) => Some(
                    server::backend::mailer::Mailer::new(url, from, args.public_origin.clone())
                        .map_err(server::serve::ServeError::Mail)?,
                ),
                _ => None,
            };
            serve(ServeConfig {
                addr: args.addr,
                data_dir: args.data_dir,
                store: args.store,
                store_connections: usize::from(args.store_connections),
                blobs: args.blobs,
                accept_new_key_files: args.accept_new_key_files,
                site_dir: args.site_dir,
                tls: args.tls_cert.zip(args.tls_key),
                limits: Limits {
                    max_json_body: args.max_body_bytes,
                    request_timeout: std::time::Duration::from_secs(args.request_timeout_secs),
                    classes: {
                        let machine = ClassLimits::for_this_machine();
                        ClassLimits {
                            sign_in: args.max_concurrent_sign_in.unwrap_or(machine.sign_in),
                            records: args.max_concurrent_api.unwrap_or(machine.records),
                            chunk_get: args.max_concurrent_chunk_reads.unwrap_or(machine.chunk_get),
                            chunk_put: args
                                .max_concurrent_chunk_writes
                                .unwrap_or(machine.chunk_put),
                            static_files: args
                                .max_concurrent_static
                                .unwrap_or(machine.static_files),
                            queue_wait: std::time::Duration::from_millis(args.queue_wait_ms),
                        }
                    },
                },
                accounts: AccountSettings {
                    open_signup: !args.no_open_signup && args.open_signup.unwrap_or(true),
                    idle_timeout_secs: args.idle_timeout_secs,
                    absolute_lifetime_secs: args.session_lifetime_secs,
                    second_factor_roles: server::backend::Roles::of(&args.require_second_factor),
                },
                records: RecordsConfig {
                    quota_bytes: args.quota_bytes,
                    max_file_bytes: args.max_file_bytes,
                },
                public_origin: args.public_origin,
                trusted_proxies: args.trusted_proxies,
                totp_key_file: args.totp_key_file,
                audit_key_file: args.audit_key_file,
                insecure_http: args.insecure_http,
                mailer,
                #[cfg(feature = "test-clock")]
                test_clock_file: args.test_clock_file,
            })
            .await
        }),
        Command::CreateAdminInvite(args) => print_admin_invite(&args),
        Command::OrgKey(_) | Command::Migrate(_) => Ok(()),
        Command::Compact(args) => compact_store(&args.data_dir),
        Command::AuditKey(AuditKeyCommand::Init { out }) => init_audit_key(&out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `compact`: the embedded store rewritten with its live data only.
fn compact_store(dir: &std::path::Path) -> Result<(), server::serve::ServeError> {
    let done = server::store::sled::compact::compact(dir).map_err(|e| {
        server::serve::ServeError::Store {
            path: dir.to_owned(),
            reason: e.to_string(),
        }
    })?;
    println!(
        "compacted: {} live entries; the store's files went from {} to {} bytes. Deleted data is no longer in them.",
        done.entries, done.bytes_before, done.bytes_after
    );
    Ok(())
}
