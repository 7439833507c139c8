//! The JSON of every server function, both ways: each request body as the
//! server decodes it (the argument struct `#[leptos::server]` makes), and each
//! answer as the browser decodes it (the function's output, and `ApiError`).
//! The first byte picks the type. Whatever decodes must re-encode to JSON that
//! decodes to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use server_fn::ServerFn;
use shared::api::{self, account, admin, audit, directory, records, sharing, system};

type Check = fn(&[u8]);

/// Decodes, and if that works, checks that the value's own encoding decodes
/// to the same value (compared as JSON trees: maps may iterate in any order).
fn round_trip<T: Serialize + DeserializeOwned>(bytes: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return;
    };
    let Ok(encoded) = serde_json::to_vec(&value) else {
        return;
    };
    let again: T = serde_json::from_slice(&encoded).expect("own encoding decodes");
    let first = serde_json::to_value(&value).expect("to a JSON tree");
    let second = serde_json::to_value(&again).expect("to a JSON tree");
    assert_eq!(first, second);
}

fn request<S: ServerFn + Serialize + DeserializeOwned>(bytes: &[u8]) {
    round_trip::<S>(bytes);
}

fn answer<S: ServerFn>(bytes: &[u8])
where
    S::Output: Serialize + DeserializeOwned,
{
    round_trip::<S::Output>(bytes);
}

macro_rules! checks {
    ($($f:ty,)*) => {
        const CHECKS: &[Check] = &[
            round_trip::<api::ApiError>,
            $(request::<$f>, answer::<$f>,)*
        ];
    };
}

checks! {
    account::CurrentSession,
    account::GetPins,
    account::InviteInfo,
    account::LoginFinish,
    account::LoginSecondFactor,
    account::LoginStart,
    account::Logout,
    account::LogoutEverywhere,
    account::PasswordChangeFinish,
    account::PasswordChangeStart,
    account::PutPins,
    account::RecoveryCodeFinish,
    account::RecoveryCodeStart,
    account::RecoveryFinish,
    account::RecoveryStart,
    account::RevokeSession,
    account::Sessions,
    account::SignupFinish,
    account::SignupPolicy,
    account::SignupStart,
    account::TotpDisable,
    account::TotpEnable,
    account::TotpEnableStart,
    admin::CreateInvite,
    admin::ListInvites,
    admin::ListUsers,
    admin::MyOrgCertificate,
    admin::RevokeInvite,
    admin::SetDisabled,
    admin::StoreOrgCertificate,
    admin::VerifyDoctor,
    audit::AuditHeads,
    audit::AuditKey,
    audit::AuditLog,
    audit::MyHistory,
    audit::SystemEvents,
    directory::LookupUser,
    directory::UserNames,
    records::AdoptRecord,
    records::CancelUpload,
    records::CreateNode,
    records::CreateRecord,
    records::EmptyTrash,
    records::FinishUpload,
    records::FoldHead,
    records::GetRecord,
    records::ListVersions,
    records::MoveNode,
    records::RecordBatch,
    records::RecordHeads,
    records::RecordSeq,
    records::RestoreNode,
    records::RestoreVersion,
    records::StartUpload,
    records::TrashNode,
    records::UpdateNode,
    records::UploadStatus,
    sharing::AskEmergency,
    sharing::BeginRotation,
    sharing::CreateGrant,
    sharing::DeclineGrant,
    sharing::DenyRequest,
    sharing::FinishRotation,
    sharing::ListGrants,
    sharing::ListRequests,
    sharing::PendingRotations,
    sharing::RefuseEmergency,
    sharing::RenewGrant,
    sharing::RequestAccess,
    sharing::RevokeGrant,
    sharing::SendRotationPart,
    sharing::SharedHeads,
    sharing::SharedRecord,
    system::Health,
}

fuzz_target!(|data: &[u8]| {
    if let Some((&pick, body)) = data.split_first() {
        CHECKS[usize::from(pick) % CHECKS.len()](body);
    }
});
