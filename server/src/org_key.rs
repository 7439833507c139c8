//! `medvault-server org-key`: the installation's org key, used offline by the
//! operator and never by `serve`.
//!
//! The key file holds the 32-byte Ed25519 seed and nothing else (mode 0600,
//! never overwritten). Its fingerprint is built into the app
//! (`MEDVAULT_ORG_FINGERPRINT`); `certify-admin` turns an admin's request code
//! (from the Admin page) into the certificate code the admin pastes back.

use std::{io::Write as _, path::PathBuf};

use clap::Subcommand;
use shared::{
    client,
    crypto::{
        b64,
        fingerprint::{OrgFingerprint, SafetyNumber},
        sign::SigningKey,
    },
};
use zeroize::Zeroizing;

/// What `org-key` does.
#[derive(Debug, Subcommand)]
pub enum OrgKeyCommand {
    /// Make a new org key in FILE (refuses to overwrite one) and print its
    /// public key and fingerprint. Keep the file off the server.
    Init {
        /// Where to write the key (mode 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key and fingerprint of the org key in FILE.
    Show {
        /// The org key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Print only the fingerprint, as 64 hex digits (for build scripts:
    /// `MEDVAULT_ORG_FINGERPRINT`).
    Fingerprint {
        /// The org key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Certify an admin: read their request code (from the Admin page) and
    /// print the certificate code they paste back.
    CertifyAdmin {
        /// The org key file.
        #[arg(long)]
        key: PathBuf,
        /// The admin's certificate request code.
        #[arg(long)]
        request: String,
    },
}

/// Runs one `org-key` command; the error is the sentence to print.
pub fn run(command: OrgKeyCommand, now: i64) -> Result<(), String> {
    match command {
        OrgKeyCommand::Init { out } => {
            let key = create(&out)?;
            println!("Made a new org key in {}.", out.display());
            print_key(&key);
            println!("Keep this file off the server, with a backup in a safe place. Build the app with MEDVAULT_ORG_FINGERPRINT set to the fingerprint above.");
            Ok(())
        }
        OrgKeyCommand::Show { key } => {
            print_key(&read(&key)?);
            Ok(())
        }
        OrgKeyCommand::Fingerprint { key } => {
            println!("{}", fingerprint(&read(&key)?).to_hex());
            Ok(())
        }
        OrgKeyCommand::CertifyAdmin { key, request } => {
            let org = read(&key)?;
            let admin = client::parse_admin_request(&request).map_err(|_| {
                "The request code is not a signed admin key entry. Copy the whole code from the admin's Installation certificate card and try again.".to_owned()
            })?;
            let number = SafetyNumber::new(
                &admin.user_id,
                &admin.identity_key.to_bytes(),
                &admin.encryption_key,
            );
            eprintln!(
                "Certifying admin {}. Their safety number (compare it with them before you hand over the code):\n{number}",
                admin.username
            );
            let cert = client::certify_admin(&org, &admin, now);
            println!("{}", client::admin_certificate_code(&cert));
            Ok(())
        }
    }
}

fn fingerprint(key: &SigningKey) -> OrgFingerprint {
    OrgFingerprint::of(&key.verifying_key().to_bytes())
}

fn print_key(key: &SigningKey) {
    println!(
        "public key:  {}",
        b64::encode(&key.verifying_key().to_bytes())
    );
    println!("fingerprint: {}", fingerprint(key));
}

fn create(path: &PathBuf) -> Result<SigningKey, String> {
    let key = SigningKey::generate()
        .map_err(|_| "The operating system gave no randomness; nothing was written.".to_owned())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists; an org key is never overwritten. Use `org-key show --key {}` to see it, or choose another file.",
                path.display(),
                path.display()
            )
        } else {
            format!("cannot create {}: {e}", path.display())
        }
    })?;
    file.write_all(&key.seed()[..])
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key)
}

fn read(path: &PathBuf) -> Result<SigningKey, String> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("{} is not an org key (32 bytes).", path.display()))?,
    );
    Ok(SigningKey::from_seed(&seed))
}
