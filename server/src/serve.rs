//! Starting and stopping the server: bind, serve (plain or TLS), shut down
//! gracefully on SIGINT/SIGTERM and flush the store before exiting.

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use crate::{
    app::{router, Limits},
    backend::{
        system_clock, totp_key::seal_plaintext_secrets, AccountConfig, AccountSettings, InviteKey,
        RecordsConfig, TotpKey,
    },
    state::AppState,
    store::{blobs::Blobs, PgStore, SledStore, Store, StoreError},
    web::Site,
};

/// Everything `serve` needs, as given on the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Directory of the embedded store, and of the server's key files.
    pub data_dir: PathBuf,
    /// A PostgreSQL connection string (`--store`); `None` is sled in
    /// `data_dir`.
    pub store: Option<String>,
    /// The most PostgreSQL connections to keep (`--store-connections`).
    pub store_connections: usize,
    /// The object store for chunks beside PostgreSQL (`--blobs`).
    pub blobs: Option<String>,
    /// Record this server's key files as the ones every server on the shared
    /// store must have (`--accept-new-key-files`), after a deliberate change.
    pub accept_new_key_files: bool,
    /// Directory of the built app (Trunk's `dist`).
    pub site_dir: PathBuf,
    /// PEM certificate chain and private key; both or neither.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Request limits.
    pub limits: Limits,
    /// Open sign-up and session lifetimes.
    pub accounts: AccountSettings,
    /// Quota and largest file of records.
    pub records: RecordsConfig,
    /// The origin browsers use when a reverse proxy is in front (`--public-origin`).
    pub public_origin: Option<String>,
    /// Reverse proxies trusted to name the client in `X-Forwarded-For`
    /// (`--trusted-proxy`, repeatable); empty ignores the header.
    pub trusted_proxies: Vec<crate::proxy::IpNet>,
    /// The file holding the key that seals TOTP secrets (`--totp-key-file`);
    /// `None` means `<data-dir>.totp-key`, beside the data directory.
    pub totp_key_file: Option<PathBuf>,
    /// The file holding the audit signing key (`--audit-key-file`); `None`
    /// means `<data-dir>.audit-key`, beside the data directory.
    pub audit_key_file: Option<PathBuf>,
    /// Plain HTTP on an address other machines reach, without an https
    /// public origin (`--insecure-http`): refused unless this is set.
    pub insecure_http: bool,
    /// Notification e-mail (`--smtp-url`, `--smtp-from`), if the operator
    /// gave a relay.
    pub mailer: Option<std::sync::Arc<crate::backend::mailer::Mailer>>,
    /// End-to-end tests only: a file whose number of seconds is added to the
    /// clock (see `backend::offset_clock`); absent without the `test-clock`
    /// feature.
    #[cfg(feature = "test-clock")]
    pub test_clock_file: Option<PathBuf>,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened (locked by another process, unreadable).
    #[error("cannot open the store in {path}: {reason}")]
    Store {
        /// The data directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The PostgreSQL store could not be opened (unreachable, refused, a
    /// schema from a newer server).
    #[error("cannot open the PostgreSQL store: {0}")]
    Database(String),
    /// The built app could not be loaded.
    #[error(transparent)]
    Site(#[from] crate::web::SiteError),
    /// The certificate or key could not be loaded.
    #[error("cannot load the TLS certificate or key: {0}")]
    Tls(String),
    /// The SMTP settings are not usable.
    #[error("notification e-mail: {0}")]
    Mail(String),
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The audit key could not be loaded, made or moved out of the store.
    #[error(transparent)]
    AuditKey(#[from] crate::backend::audit::key::AuditKeyError),
    /// A key file differs from the other servers' on the shared store.
    #[error(transparent)]
    KeyCheck(#[from] crate::key_check::KeyCheckError),
    /// Plain HTTP on a network address, which nobody asked for.
    #[error(
        "refusing to serve plain HTTP on {0}, an address other machines can reach: session \
         cookies and everything the app sends would cross the network unencrypted. Give \
         --tls-cert and --tls-key; or serve behind an HTTPS reverse proxy and give \
         --public-origin https://...; or listen on 127.0.0.1; or, on a network you trust \
         completely, add --insecure-http"
    )]
    PlainHttpOnNetwork(SocketAddr),
}

/// Whether `config` would send sessions in the clear over a network: plain
/// HTTP (no TLS here, no https origin in front) on an address that is not
/// loopback, which the operator did not explicitly allow.
pub fn plain_http_on_network(config: &ServeConfig) -> bool {
    let behind_https = config
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"));
    !config.addr.ip().is_loopback()
        && config.tls.is_none()
        && !behind_https
        && !config.insecure_http
}

/// The store `config` names: PostgreSQL for `--store`, else sled in the data
/// directory.
async fn open_store(config: &ServeConfig) -> Result<Arc<dyn Store>, ServeError> {
    match &config.store {
        Some(url) => {
            let database = |e: StoreError| ServeError::Database(e.to_string());
            let mut store = PgStore::lazy(url, config.store_connections).map_err(database)?;
            if let Some(blobs) = &config.blobs {
                store = store.with_blobs(Blobs::open_probed(blobs).await.map_err(database)?);
            }
            store.ready().await.map_err(database)?;
            tracing::info!(
                chunks_in_objects = config.blobs.is_some(),
                "store open on PostgreSQL"
            );
            // Objects a crash left without a name, an hour old or more.
            let sweeper = store.clone();
            tokio::spawn(async move {
                let hour_ago = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64 - 3600);
                match sweeper.sweep_objects(hour_ago).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "chunk objects no key named were removed"),
                    Err(e) => tracing::warn!(error = %e, "could not sweep the chunk objects"),
                }
            });
            Ok(Arc::new(store))
        }
        None => {
            let store = SledStore::open(&config.data_dir).map_err(|e| ServeError::Store {
                path: config.data_dir.clone(),
                reason: e.to_string(),
            })?;
            tracing::info!(data = %config.data_dir.display(), "store open");
            Ok(Arc::new(store))
        }
    }
}

/// Runs the server until SIGINT or SIGTERM, then drains connections and flushes
/// the store. Prints the URL once it is listening.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    if plain_http_on_network(&config) {
        return Err(ServeError::PlainHttpOnNetwork(config.addr));
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let store = open_store(&config).await?;
    let site = Site::load(&config.site_dir, config.tls.is_some())?;
    let invite_key = InviteKey::load_or_create(&config.data_dir)?;
    let totp_key_file = match &config.totp_key_file {
        Some(file) => file.clone(),
        None => TotpKey::default_path(&config.data_dir)?,
    };
    let totp_key = TotpKey::load_or_create(&totp_key_file)?;
    let sealed = seal_plaintext_secrets(store.as_ref(), &totp_key)
        .await
        .map_err(|e| ServeError::Store {
            path: config.data_dir.clone(),
            reason: format!("sealing the stored TOTP secrets failed: {e}"),
        })?;
    if sealed > 0 {
        tracing::info!(sealed, "stored TOTP secrets sealed under the TOTP key");
    }
    let audit_key = load_audit_key(&config, store.as_ref()).await?;
    if store.shared_by_processes() {
        crate::key_check::check_shared_keys(
            store.as_ref(),
            &totp_key,
            &audit_key.verifying_key().to_bytes(),
            config.accept_new_key_files,
        )
        .await?;
    }
    let state = AppState::with_accounts(
        store.clone(),
        site,
        AccountConfig {
            settings: config.accounts,
            records: config.records,
            clock: clock(&config),
            invite_key: Some(invite_key),
            totp_key: Some(totp_key),
            mailer: config.mailer.clone(),
        },
    )
    .with_public_origin(config.public_origin.clone())
    .with_trusted_proxies(config.trusted_proxies.clone());
    if !state.audit.use_key(audit_key) {
        return Err(ServeError::Io(std::io::Error::other(
            "the audit log already had a signing key before the key file's was given",
        )));
    }
    if !config.trusted_proxies.is_empty() {
        let list: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        tracing::info!(proxies = %list.join(", "), "client addresses taken from X-Forwarded-For behind these proxies");
    }
    // Records the sign-ins that were started and never finished.
    let _abandoned = state.spawn_abandoned_logger(std::time::Duration::from_secs(60));
    // Gives memory back to the system once a load is over.
    let _trimmer = crate::memory::spawn_trimmer();
    // Signs the audit chain's head once a minute while events arrive.
    let _signer = state
        .audit
        .spawn_head_signer(std::time::Duration::from_secs(60));
    let audit = state.audit.clone();
    let app = router(state, config.limits);

    let listener = TcpListener::bind(config.addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;

    let handle = axum_server::Handle::new();
    tokio::spawn(shutdown_on_signal(handle.clone()));

    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("medvault is running at {scheme}://{local}/  (Ctrl+C to stop)");

    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    // A client that sends its headers too slowly is cut off by the listener;
    // the router's time limit covers the body and the answer.
    let header_timeout = config.limits.header_read_timeout();
    match &config.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| ServeError::Tls(e.to_string()))?;
            // No Nagle delay on answers (see `FirstByteWithin`).
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .acceptor(axum_server::accept::NoDelayAcceptor::new());
            let mut server = axum_server::from_tcp(listener).acceptor(acceptor);
            server
                .http_builder()
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            server.handle(handle).serve(service).await?;
        }
        None => {
            let mut server =
                axum_server::from_tcp(listener).acceptor(FirstByteWithin(header_timeout));
            server
                .http_builder()
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            server.handle(handle).serve(service).await?;
        }
    }

    // The last events get a signed head before the process ends, so nothing
    // written in the final minute can be dropped unnoticed while it is down.
    match audit.sign_head().await {
        Ok(Some(h)) => tracing::info!(seq = h.value.seq, "audit head signed at shutdown"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not sign the audit head at shutdown"),
    }
    let flushed = store.flush().await;
    match flushed {
        Ok(()) => tracing::info!("store flushed; stopped"),
        Err(e) => tracing::error!(error = %e, "store flush at shutdown failed"),
    }
    Ok(())
}

/// The audit key from its file (moving an old store's seed there first).
async fn load_audit_key(
    config: &ServeConfig,
    store: &dyn Store,
) -> Result<shared::crypto::sign::SigningKey, ServeError> {
    use crate::backend::audit::key::{self, KeySource};
    let path = match &config.audit_key_file {
        Some(file) => file.clone(),
        None => key::default_path(&config.data_dir)?,
    };
    let (audit_key, source) = key::load_or_migrate(store, &path).await?;
    let (_, fingerprint) = key::describe(&audit_key);
    let file = path.display().to_string();
    match source {
        KeySource::File => tracing::info!(%file, %fingerprint, "audit key loaded"),
        KeySource::Created => {
            tracing::info!(%file, %fingerprint, "audit key made; back this file up apart from the data directory")
        }
        KeySource::MovedFromStore => tracing::warn!(
            %file,
            %fingerprint,
            "the audit key was moved out of the store into its own file; back this file up apart from the data directory"
        ),
    }
    Ok(audit_key)
}

/// Drops a plain-HTTP connection that sends nothing within the limit. Hyper's
/// header-read timeout starts only with the first byte of a request, so a
/// connection that stays silent from the start would otherwise be held open
/// for ever. (Under TLS the handshake timeout does this.) It also turns off
/// Nagle's algorithm on the connection.
#[derive(Clone, Copy)]
struct FirstByteWithin(Duration);

impl<S: Send + 'static> axum_server::accept::Accept<tokio::net::TcpStream, S> for FirstByteWithin {
    type Stream = tokio::net::TcpStream;
    type Service = S;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<(Self::Stream, S)>> + Send>,
    >;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let limit = self.0;
        Box::pin(async move {
            // Answers go out as soon as they are written: with Nagle's
            // algorithm on, the tail of a response written in two parts waits
            // for the client's delayed acknowledgement (up to 40 ms a request).
            stream.set_nodelay(true)?;
            let mut first = [0u8; 1];
            match tokio::time::timeout(limit, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => Ok((stream, service)),
                Ok(Err(e)) => Err(e),
                _ => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client sent nothing",
                )),
            }
        })
    }
}

/// The wall clock, or in test builds the one `--test-clock-file` moves.
#[cfg(feature = "test-clock")]
fn clock(config: &ServeConfig) -> crate::backend::Clock {
    match config.test_clock_file.clone() {
        Some(file) => {
            tracing::warn!("test clock in use: the server's time follows a file");
            crate::backend::offset_clock(file)
        }
        None => system_clock(),
    }
}

/// The wall clock: production builds have no other.
#[cfg(not(feature = "test-clock"))]
fn clock(_: &ServeConfig) -> crate::backend::Clock {
    system_clock()
}

async fn shutdown_on_signal(handle: axum_server::Handle) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing open requests");
    handle.graceful_shutdown(Some(Duration::from_secs(10)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(addr: &str) -> ServeConfig {
        ServeConfig {
            addr: addr.parse().unwrap(),
            data_dir: PathBuf::from("data"),
            store: None,
            store_connections: 1,
            blobs: None,
            accept_new_key_files: false,
            site_dir: PathBuf::from("dist"),
            tls: None,
            limits: Limits::default(),
            accounts: AccountSettings::default(),
            records: RecordsConfig::default(),
            public_origin: None,
            trusted_proxies: Vec::new(),
            totp_key_file: None,
            audit_key_file: None,
            insecure_http: false,
            mailer: None,
            #[cfg(feature = "test-clock")]
            test_clock_file: None,
        }
    }

    #[test]
    fn plain_http_is_refused_only_where_other_machines_could_listen_in() {
        // Loopback, either family: only this machine sees the traffic.
        assert!(!plain_http_on_network(&config("127.0.0.1:8080")));
        assert!(!plain_http_on_network(&config("[::1]:8080")));
        // Every interface, or one of them, in the clear: refused.
        assert!(plain_http_on_network(&config("0.0.0.0:8080")));
        assert!(plain_http_on_network(&config("[::]:8080")));
        assert!(plain_http_on_network(&config("192.0.2.10:80")));
        // TLS here, or an https proxy in front: allowed.
        let tls = ServeConfig {
            tls: Some((PathBuf::from("cert.pem"), PathBuf::from("key.pem"))),
            ..config("0.0.0.0:443")
        };
        assert!(!plain_http_on_network(&tls));
        let proxied = ServeConfig {
            public_origin: Some("https://medvault.example.org".into()),
            ..config("10.0.0.5:8080")
        };
        assert!(!plain_http_on_network(&proxied));
        // An http public origin is no better than none.
        let plain_proxy = ServeConfig {
            public_origin: Some("http://medvault.example.org".into()),
            ..config("10.0.0.5:8080")
        };
        assert!(plain_http_on_network(&plain_proxy));
        // The operator's explicit choice.
        let allowed = ServeConfig {
            insecure_http: true,
            ..config("0.0.0.0:8080")
        };
        assert!(!plain_http_on_network(&allowed));
    }
}
