//! The installation's org key in tests: the operator's offline steps
//! (`medvault-server org-key certify-admin`) played with the same `shared`
//! functions, and the admin storing the result through the admin page's call.

use serde_json::json;
use shared::{
    client::{self, NewAccount},
    crypto::{fingerprint::OrgFingerprint, sign::SigningKey},
};

use super::Client;

/// A fresh org key, as `org-key init` makes one.
pub fn org_key() -> SigningKey {
    SigningKey::generate().unwrap()
}

/// The fingerprint an app built for `org` carries.
pub fn fingerprint(org: &SigningKey) -> OrgFingerprint {
    OrgFingerprint::of(&org.verifying_key().to_bytes())
}

/// The admin's request code goes to the operator, who signs it with `org`
/// offline; the admin stores the certificate code they get back.
pub async fn certify_admin(admin: &Client, account: &NewAccount, org: &SigningKey, now: i64) {
    let request = client::admin_request_code(&account.request.key_entry);
    let entry = client::parse_admin_request(&request).unwrap();
    let code = client::admin_certificate_code(&client::certify_admin(org, &entry, now));
    let certificate = client::parse_admin_certificate(&code).unwrap();
    let () = admin
        .post(
            "/api/admin/org-certificate",
            &json!({ "certificate": certificate }),
        )
        .await
        .unwrap();
}
