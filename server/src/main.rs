//! Command line of the medvault server. Each sub-command parses its flags and
//! hands over to the library; nothing else lives here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use server::{
    app::Limits,
    serve::{serve, ServeConfig},
};

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
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, env = "MEDVAULT_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory of the embedded sled store; created if missing.
    #[arg(long = "data", env = "MEDVAULT_DATA", default_value = "./data")]
    data_dir: PathBuf,
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(ServeConfig {
            addr: args.addr,
            data_dir: args.data_dir,
            site_dir: args.site_dir,
            tls: args.tls_cert.zip(args.tls_key),
            limits: Limits {
                max_json_body: args.max_body_bytes,
            },
        })),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
