//! `medvault-server org-key`, run as the operator runs it: a key made once
//! (0600, never overwritten), its fingerprint shown again, and an admin's
//! request code turned into a certificate that chains to that fingerprint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use shared::{
    client::{self, key_entry},
    crypto::{fingerprint::OrgFingerprint, keyring::Keyring},
    model::Role,
};

const BIN: &str = env!("CARGO_BIN_EXE_medvault-server");

fn org_key(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("org-key")
        .args(args)
        .env("MEDVAULT_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn shown_fingerprint(out: &Output) -> OrgFingerprint {
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap();
    OrgFingerprint::parse(line).unwrap()
}

#[test]
fn init_show_and_certify_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.key");
    let path = file.to_str().unwrap();
    let made = org_key(&["init", "--out", path]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(std::fs::read(&file).unwrap().len(), 32);
    let fp = shown_fingerprint(&made);
    assert_eq!(shown_fingerprint(&org_key(&["show", "--key", path])), fp);
    let hex = org_key(&["fingerprint", "--key", path]);
    assert_eq!(text(&hex.stdout).trim(), fp.to_hex());

    // Never overwritten.
    let before = std::fs::read(&file).unwrap();
    let again = org_key(&["init", "--out", path]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("never overwritten"));
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // An admin's request code in, a certificate code out.
    let keyring = Keyring::generate().unwrap();
    let admin = key_entry(&keyring, [1; 16], "root.admin", Role::Admin, 5);
    let request = client::admin_request_code(&admin);
    let out = org_key(&["certify-admin", "--key", path, "--request", &request]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("root.admin"));
    let cert = client::parse_admin_certificate(text(&out.stdout).trim()).unwrap();
    client::check_admin_certificate(&cert, &admin.value, &fp).unwrap();
}

#[test]
fn fail_bad_requests_and_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.key");
    let path = file.to_str().unwrap();
    assert!(org_key(&["init", "--out", path]).status.success());
    // A doctor's entry is no admin request; nor is garbage.
    let keyring = Keyring::generate().unwrap();
    let doctor = key_entry(&keyring, [2; 16], "dr.who", Role::Doctor, 5);
    for request in [client::admin_request_code(&doctor), "nonsense".to_owned()] {
        let out = org_key(&["certify-admin", "--key", path, "--request", &request]);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        assert!(text(&out.stderr).contains("request code"));
    }
    // A file that is not a key.
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, b"short").unwrap();
    let out = org_key(&["show", "--key", wrong.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not an org key"));
    let missing = org_key(&["show", "--key", dir.path().join("none").to_str().unwrap()]);
    assert!(!missing.status.success());
}
