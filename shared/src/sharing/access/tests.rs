//! The grant rule: what it allows, and each way it refuses.

use super::*;

const ROOT: Id = [1; 16];
const FOLDER: Id = [2; 16];
const FILE: Id = [3; 16];
const ELSEWHERE: Id = [4; 16];

/// A read-and-write grant of FOLDER, made at 1,000, ending at 2,000.
fn grant(permission: Permission) -> Grant {
    Grant {
        grant_id: [9; 16],
        patient_id: [7; 16],
        doctor_id: [8; 16],
        doctor_key: [5; 32],
        key_hash: [6; 32],
        node_id: FOLDER,
        permission,
        created_at: 1_000,
        expires_at: Some(2_000),
        revision: 0,
    }
}

/// FILE lies in FOLDER, which lies in ROOT: the path from FILE up.
fn in_file_path(folder: &Id) -> bool {
    [FILE, FOLDER, ROOT].contains(folder)
}

fn allows(
    grant: &Grant,
    status: Option<GrantStatus>,
    asked: Permission,
    at: GrantTime,
) -> Result<(), GrantRefusal> {
    grant_allows(grant, status, asked, at, in_file_path)
}

#[test]
fn an_active_grant_allows_reading_under_its_folder() {
    let g = grant(Permission::Read);
    let active = Some(GrantStatus::Active);
    assert_eq!(
        allows(&g, active, Permission::Read, GrantTime::Now(1_500)),
        Ok(())
    );
    // The folder itself is in scope too.
    assert_eq!(
        grant_allows(&g, active, Permission::Read, GrantTime::Now(1_500), |f| *f
            == FOLDER),
        Ok(())
    );
}

#[test]
fn a_read_write_grant_allows_writing() {
    let g = grant(Permission::ReadWrite);
    let active = Some(GrantStatus::Active);
    assert_eq!(
        allows(&g, active, Permission::ReadWrite, GrantTime::Now(1_500)),
        Ok(())
    );
    assert_eq!(
        allows(&g, active, Permission::Read, GrantTime::Now(1_500)),
        Ok(())
    );
}

#[test]
fn a_grant_without_an_end_never_expires() {
    let mut g = grant(Permission::Read);
    g.expires_at = None;
    assert_eq!(
        allows(
            &g,
            Some(GrantStatus::Active),
            Permission::Read,
            GrantTime::Now(i64::MAX)
        ),
        Ok(())
    );
    assert_eq!(
        allows(&g, None, Permission::Read, GrantTime::Signed(i64::MAX)),
        Ok(())
    );
}

#[test]
fn fail_read_only_asked_to_write() {
    let g = grant(Permission::Read);
    assert_eq!(
        allows(
            &g,
            Some(GrantStatus::Active),
            Permission::ReadWrite,
            GrantTime::Now(1_500)
        ),
        Err(GrantRefusal::ReadOnly)
    );
    assert_eq!(
        allows(&g, None, Permission::ReadWrite, GrantTime::Signed(1_500)),
        Err(GrantRefusal::ReadOnly)
    );
}

#[test]
fn fail_outside_scope() {
    let g = grant(Permission::ReadWrite);
    let active = Some(GrantStatus::Active);
    // A node beside the folder, and the folder's parent: neither is covered.
    let beside = |f: &Id| [ELSEWHERE, ROOT].contains(f);
    assert_eq!(
        grant_allows(&g, active, Permission::Read, GrantTime::Now(1_500), beside),
        Err(GrantRefusal::OutsideScope)
    );
    assert_eq!(
        grant_allows(&g, active, Permission::Read, GrantTime::Now(1_500), |f| *f
            == ROOT),
        Err(GrantRefusal::OutsideScope)
    );
}

#[test]
fn fail_expired_by_the_clock_or_by_the_server() {
    let g = grant(Permission::ReadWrite);
    let active = Some(GrantStatus::Active);
    // The end is exclusive: at 2,000 the grant has ended.
    assert_eq!(
        allows(&g, active, Permission::Read, GrantTime::Now(1_999)),
        Ok(())
    );
    assert_eq!(
        allows(&g, active, Permission::Read, GrantTime::Now(2_000)),
        Err(GrantRefusal::Expired)
    );
    assert_eq!(
        allows(
            &g,
            Some(GrantStatus::Expired),
            Permission::Read,
            GrantTime::Now(1_500)
        ),
        Err(GrantRefusal::Expired)
    );
}

#[test]
fn fail_revoked_declined_and_unopened_emergency_grants() {
    let g = grant(Permission::ReadWrite);
    for (status, refusal) in [
        (GrantStatus::Revoked, GrantRefusal::Revoked),
        (GrantStatus::Declined, GrantRefusal::Declined),
        (GrantStatus::Standby, GrantRefusal::NotOpen),
        (GrantStatus::Waiting, GrantRefusal::NotOpen),
    ] {
        assert_eq!(
            allows(&g, Some(status), Permission::Read, GrantTime::Now(1_500)),
            Err(refusal),
            "{status:?}"
        );
    }
}

#[test]
fn a_status_failure_comes_before_the_others() {
    // Revoked, expired, outside scope and read-only at once: the status wins.
    let g = grant(Permission::Read);
    assert_eq!(
        grant_allows(
            &g,
            Some(GrantStatus::Revoked),
            Permission::ReadWrite,
            GrantTime::Now(5_000),
            |_| false
        ),
        Err(GrantRefusal::Revoked)
    );
}

#[test]
fn a_signed_moment_may_differ_by_the_clock_skew() {
    let g = grant(Permission::ReadWrite);
    let at = |t| allows(&g, None, Permission::ReadWrite, GrantTime::Signed(t));
    let skew = WRITE_CLOCK_SKEW_SECS;
    assert_eq!(at(1_000 - skew), Ok(()));
    assert_eq!(at(2_000 + skew - 1), Ok(()));
    assert_eq!(at(1_000 - skew - 1), Err(GrantRefusal::OutsideWindow));
    assert_eq!(at(2_000 + skew), Err(GrantRefusal::OutsideWindow));
}

#[test]
fn extreme_times_do_not_overflow() {
    let mut g = grant(Permission::ReadWrite);
    g.created_at = i64::MIN;
    g.expires_at = Some(i64::MAX);
    assert_eq!(
        allows(&g, None, Permission::ReadWrite, GrantTime::Signed(i64::MIN)),
        Ok(())
    );
    assert_eq!(
        allows(
            &g,
            Some(GrantStatus::Active),
            Permission::Read,
            GrantTime::Now(i64::MIN)
        ),
        Ok(())
    );
}
