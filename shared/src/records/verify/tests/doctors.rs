//! Doctors: pending changes under a write grant, injected nodes, and the
//! doctor's own view of a shared folder.

use super::{fixture::*, *};
use crate::{api::records::NodeKind, model::Permission};

const NEW: Id = [60; 16];

#[test]
fn a_doctors_new_file_under_a_live_write_grant_is_pending_and_folds() {
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, S, NodeKind::File, grant);
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    assert_eq!(checked.pending, vec![NEW]);
    // The owner's browser folds it: a head over the checked leaves, which
    // the server takes (same state hash as its own leaves) and which then
    // confirms the doctor's node.
    let seen = checked.seen;
    let head = next_head(rec.head(), &checked.leaves, NOW).sign(&rec.owner_key);
    rec.heads.push(head);
    rec.leaves = checked.leaves;
    let folded = rec.check(&rec.tree(), seen, &rec.heads[1..]).unwrap();
    assert!(folded.pending.is_empty());
    // After the fold the grant may end: the owner's head vouches for it.
    let mut later = GrantKnowledge::at(NOW + 5000);
    later.removed.insert([40; 16]);
    assert!(rec
        .check_knowing(&rec.tree(), folded.seen, &[], &later)
        .is_ok());
}

#[test]
fn a_doctors_new_version_and_trash_inside_the_grant_are_pending() {
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    let doctor = key(2);
    rec.doctor_edit(F, grant.clone(), &doctor, |n| {
        n.current = Some(version(n, 2, DOCTOR, &key(2)));
        n.version_count = 2;
    });
    rec.doctor_edit(G, grant, &doctor, |n| n.trashed_at = Some(NOW));
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    assert_eq!(checked.pending, vec![F, G]);
}

/// A doctor's new version of F under `grant`, signed with `signer`: the
/// owner's browser's answer.
fn doctor_version(
    grant: crate::crypto::sign::Signed<crate::model::Grant>,
    signer: u8,
    knowing: &GrantKnowledge,
) -> Result<CheckedRecord, RecordAlarm> {
    let mut rec = Rec::new();
    rec.doctor_edit(F, grant, &key(signer), |n| {
        n.current = Some(version(n, 2, DOCTOR, &key(2)));
        n.version_count = 2;
    });
    rec.check_knowing(&rec.tree(), None, &[], knowing)
}

#[test]
fn a_doctors_change_is_refused_without_a_live_write_grant_covering_it() {
    let rec = Rec::new();
    let now = GrantKnowledge::at(NOW);
    let refused = Err(RecordAlarm::NotAllowed { node: F });
    // Read only.
    let read_only = rec.grant(A, Permission::Read, &rec.owner_key);
    assert_eq!(doctor_version(read_only, 2, &now), refused);
    // A grant of another folder (B; F is in A).
    let elsewhere = rec.grant(B, Permission::ReadWrite, &rec.owner_key);
    assert_eq!(doctor_version(elsewhere, 2, &now), refused);
    // Not signed by the patient (the doctor signed it).
    let forged = rec.grant(A, Permission::ReadWrite, &rec.doctor_key);
    assert_eq!(doctor_version(forged, 2, &now), refused);
    // A grant to another doctor.
    let mut other = rec.write_grant().value;
    other.doctor_id = OTHER;
    let other = crate::crypto::sign::sign(&rec.owner_key, other);
    assert_eq!(doctor_version(other, 2, &now), refused);
    // No grant at all.
    let mut bare = Rec::new();
    bare.doctor_edit(F, rec.write_grant(), &key(2), |n| n.version_count = 1);
    bare.node_mut(F).write_grant = None;
    assert_eq!(bare.check(&bare.tree(), None, &[]), refused);
}

/// What a late change of F under the fixture's write grant is listed as.
const LATE_F: LateChange = LateChange {
    node_id: F,
    doctor_id: DOCTOR,
    grant_id: [40; 16],
};

#[test]
fn a_doctors_change_under_a_grant_ended_since_is_late_not_an_alarm() {
    let rec = Rec::new();
    // Past its signed end.
    let expired = doctor_version(rec.write_grant(), 2, &GrantKnowledge::at(NOW + 1000)).unwrap();
    assert_eq!(expired.late, vec![LATE_F]);
    assert!(expired.pending.is_empty());
    assert_eq!(expired.seen, Some(Seen::of(rec.head())));
    // Removed, as this browser knows.
    let mut removed = GrantKnowledge::at(NOW);
    removed.removed.insert([40; 16]);
    let removed = doctor_version(rec.write_grant(), 2, &removed).unwrap();
    assert_eq!(removed.late, vec![LATE_F]);
    assert!(removed.pending.is_empty());
    // A new file after the grant's end: late too.
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, S, NodeKind::File, grant);
    let checked = rec
        .check_knowing(&rec.tree(), None, &[], &GrantKnowledge::at(NOW + 1000))
        .unwrap();
    assert_eq!(checked.late.len(), 1);
    assert_eq!(checked.late[0].node_id, NEW);
    // Live: pending, nothing late.
    let live = doctor_version(rec.write_grant(), 2, &GrantKnowledge::at(NOW)).unwrap();
    assert_eq!(live.pending, vec![F]);
    assert!(live.late.is_empty());
}

#[test]
fn a_doctors_change_under_a_replayed_earlier_revision_is_late() {
    use crate::sharing::GrantTerms;
    let rec = Rec::new();
    // The doctor attaches the grant as it was made (read and write, revision
    // 0); this browser has seen the patient change it since.
    let grant_id = rec.write_grant().value.grant_id;
    let seen = |permission, expires_at| {
        let mut knowing = GrantKnowledge::at(NOW);
        knowing.terms.insert(
            grant_id,
            GrantTerms {
                revision: 1,
                permission,
                expires_at,
            },
        );
        knowing
    };
    // Write access taken back.
    let read_only = doctor_version(rec.write_grant(), 2, &seen(Permission::Read, None)).unwrap();
    assert_eq!(read_only.late, vec![LATE_F]);
    assert!(read_only.pending.is_empty());
    // An end moved before now.
    let ended = doctor_version(
        rec.write_grant(),
        2,
        &seen(Permission::ReadWrite, Some(NOW - 1)),
    )
    .unwrap();
    assert_eq!(ended.late, vec![LATE_F]);
    // A change that gave more stays live.
    let longer = doctor_version(rec.write_grant(), 2, &seen(Permission::ReadWrite, None)).unwrap();
    assert_eq!(longer.pending, vec![F]);
}

#[test]
fn an_ended_grant_excuses_nothing_else() {
    let rec = Rec::new();
    let ended = GrantKnowledge::at(NOW + 1000);
    let refused = Err(RecordAlarm::NotAllowed { node: F });
    // Read only, ended.
    let read_only = rec.grant(A, Permission::Read, &rec.owner_key);
    assert_eq!(doctor_version(read_only, 2, &ended), refused);
    // Of another folder, ended.
    let elsewhere = rec.grant(B, Permission::ReadWrite, &rec.owner_key);
    assert_eq!(doctor_version(elsewhere, 2, &ended), refused);
    // Forged (signed by the doctor), ended or removed.
    let forged = rec.grant(A, Permission::ReadWrite, &rec.doctor_key);
    assert_eq!(doctor_version(forged.clone(), 2, &ended), refused);
    let mut removed = GrantKnowledge::at(NOW);
    removed.removed.insert([40; 16]);
    assert_eq!(doctor_version(forged, 2, &removed), refused);
    // Signed with another key than the doctor's.
    assert_eq!(
        doctor_version(rec.write_grant(), 3, &ended),
        Err(RecordAlarm::NotSigned { node: F })
    );
    // A late change that moves a node out of the grant's folder.
    let mut rec = Rec::new();
    rec.doctor_edit(G, rec.write_grant(), &key(2), |n| n.parent_id = Some(B));
    assert_eq!(
        rec.check_knowing(&rec.tree(), None, &[], &ended),
        Err(RecordAlarm::NotAllowed { node: G })
    );
}

#[test]
fn a_doctors_state_signed_by_another_key_is_refused() {
    let rec = Rec::new();
    assert_eq!(
        doctor_version(rec.write_grant(), 3, &GrantKnowledge::at(NOW)),
        Err(RecordAlarm::NotSigned { node: F })
    );
}

#[test]
fn a_doctor_may_not_change_the_shared_folder_itself() {
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_edit(A, grant.clone(), &key(2), |n| n.trashed_at = Some(NOW));
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: A })
    );
    // Nor rename it (a new metadata under the same parent).
    let mut rec = Rec::new();
    rec.doctor_edit(A, grant, &key(2), |n| n.metadata = vec![99; 80]);
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: A })
    );
}

#[test]
fn a_doctor_moves_and_renames_inside_the_grant_only() {
    // Inside: G from S up to A, and F renamed.
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_edit(G, grant.clone(), &key(2), |n| n.parent_id = Some(A));
    rec.doctor_edit(F, grant.clone(), &key(2), |n| n.metadata = vec![98; 80]);
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    assert_eq!(checked.pending, vec![F, G]);
    // Out of the grant's folder (A) into B.
    let mut rec = Rec::new();
    rec.doctor_edit(G, grant.clone(), &key(2), |n| n.parent_id = Some(B));
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: G })
    );
    // Taken in from outside: the entry E from B into A.
    let mut rec = Rec::new();
    rec.doctor_edit(E, grant.clone(), &key(2), |n| n.parent_id = Some(A));
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: E })
    );
    // Renaming outside it.
    let mut rec = Rec::new();
    rec.doctor_edit(E, grant.clone(), &key(2), |n| n.metadata = vec![97; 80]);
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: E })
    );
    // The shared folder moved under its own child S by a colluding server:
    // A is not strictly inside A.
    let mut rec = Rec::new();
    rec.doctor_edit(A, grant, &key(2), |n| n.parent_id = Some(S));
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: A })
    );
}

#[test]
fn a_doctors_folder_and_entries_inside_the_grant_are_pending() {
    // A folder in A, an entry in that new folder and a reading in S.
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, A, NodeKind::Folder, grant.clone());
    rec.doctor_add([61; 16], NEW, NodeKind::Entry, grant.clone());
    rec.doctor_add([62; 16], S, NodeKind::Entry, grant);
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    assert_eq!(checked.pending.len(), 3);
}

#[test]
fn an_entry_or_folder_injected_by_a_doctor_is_refused() {
    // By a read-only doctor (the server took it in, colluding).
    let mut rec = Rec::new();
    let read_only = rec.grant(A, Permission::Read, &rec.owner_key);
    rec.doctor_add(NEW, A, NodeKind::Entry, read_only.clone());
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: NEW })
    );
    let mut rec = Rec::new();
    rec.doctor_add(NEW, S, NodeKind::Folder, read_only);
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: NEW })
    );
    // Under a write grant, an entry outside its folder.
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, B, NodeKind::Entry, grant);
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: NEW })
    );
    // A file outside the grant's folder.
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, B, NodeKind::File, grant);
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: NEW })
    );
}

#[test]
fn the_doctors_view_of_the_shared_folder_passes() {
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, A, NodeKind::File, grant);
    let nodes = rec.shared_nodes();
    assert_eq!(nodes.len(), 5);
    let checked = rec
        .check_shared(&nodes, rec.head(), &rec.leaves, None)
        .unwrap();
    assert_eq!(checked.pending, vec![NEW]);
    assert_eq!(checked.seen, Some(Seen::of(rec.head())));
    // Not yet signed by the patient: shown as such.
    let view = SharedView {
        nodes: &nodes,
        head: None,
        head_leaves: &[],
        folder: A,
    };
    let legacy = check_shared(
        &view,
        &rec.owner(),
        &authors,
        &GrantKnowledge::at(NOW),
        None,
        &[],
    );
    assert!(legacy.unwrap().needs_adoption);
}

#[test]
fn a_node_hidden_inside_the_shared_folder_is_refused() {
    let rec = Rec::new();
    let mut nodes = rec.shared_nodes();
    nodes.retain(|n| n.node_id != G);
    assert_eq!(
        rec.check_shared(&nodes, rec.head(), &rec.leaves, None),
        Err(RecordAlarm::Hidden { count: 1 })
    );
    // A subtree.
    nodes.retain(|n| n.node_id != S);
    assert_eq!(
        rec.check_shared(&nodes, rec.head(), &rec.leaves, None),
        Err(RecordAlarm::Hidden { count: 2 })
    );
}

#[test]
fn a_rolled_back_doctors_view_is_refused() {
    let mut rec = Rec::new();
    let old_nodes = rec.shared_nodes();
    let old_head = rec.head().clone();
    let old_leaves = rec.leaves.clone();
    rec.owner_edit(F, |n| n.metadata = vec![21; 80]);
    let seen = rec
        .check_shared(&rec.shared_nodes(), rec.head(), &rec.leaves, None)
        .unwrap()
        .seen;
    assert_eq!(
        rec.check_shared(&old_nodes, &old_head, &old_leaves, seen),
        Err(RecordAlarm::Rollback { seen: 2, served: 1 })
    );
    // The old F under the new head.
    let mut nodes = rec.shared_nodes();
    let was = old_nodes.iter().find(|n| n.node_id == F).unwrap().clone();
    *nodes.iter_mut().find(|n| n.node_id == F).unwrap() = was;
    assert_eq!(
        rec.check_shared(&nodes, rec.head(), &rec.leaves, seen),
        Err(RecordAlarm::Replayed { node: F })
    );
}

#[test]
fn the_doctors_view_needs_the_shared_folder_in_the_head() {
    let rec = Rec::new();
    let nodes = rec.shared_nodes();
    let view = SharedView {
        nodes: &nodes,
        head: Some(rec.head()),
        head_leaves: &rec.leaves,
        folder: [55; 16],
    };
    assert_eq!(
        check_shared(
            &view,
            &rec.owner(),
            &authors,
            &GrantKnowledge::at(NOW),
            None,
            &[]
        ),
        Err(RecordAlarm::TreeMismatch)
    );
}

/// The doctor adds NEW in S at NOW, the owner's browser folds it.
fn folded_doctor_file() -> Rec {
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, S, NodeKind::File, grant);
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    rec.heads
        .push(next_head(rec.head(), &checked.leaves, NOW).sign(&rec.owner_key));
    rec.leaves = checked.leaves;
    rec
}

#[test]
fn a_doctors_file_the_owner_renamed_or_deleted_since_is_not_pending_again() {
    // An hour later the owner renames the doctor's file: the server serves the
    // doctor's state again, as if it were a change not yet taken in.
    let mut rec = folded_doctor_file();
    let doctors = rec.node(NEW).clone();
    rec.clock = NOW + PENDING_CLOCK_SKEW_SECS + 1;
    rec.owner_edit(NEW, |n| n.metadata = vec![70; 80]);
    let mut tree = rec.tree();
    *tree.nodes.iter_mut().find(|n| n.node_id == NEW).unwrap() = doctors.clone();
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Replayed { node: NEW })
    );
    // Or deletes it for good, and the server brings it back.
    let mut rec = folded_doctor_file();
    rec.clock = NOW + PENDING_CLOCK_SKEW_SECS + 1;
    rec.owner_delete(NEW);
    let mut tree = rec.tree();
    tree.nodes.push(doctors);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Replayed { node: NEW })
    );
}

#[test]
fn a_doctors_change_signed_a_little_before_the_owners_head_is_pending() {
    // The owner made a head at NOW + 3000 (another change), the doctor's
    // finish reached the server just after, signed by a clock 50 minutes
    // behind: within the allowed skew.
    let mut rec = Rec::new();
    rec.clock = NOW + 3000;
    rec.owner_edit(B, |n| n.metadata = vec![71; 80]);
    rec.clock = NOW;
    let grant = rec.write_grant();
    rec.doctor_add(NEW, S, NodeKind::File, grant);
    assert_eq!(
        rec.check(&rec.tree(), None, &[]).unwrap().pending,
        vec![NEW]
    );
}

#[test]
fn the_doctors_view_lists_a_late_change_and_passes() {
    let mut rec = Rec::new();
    let grant = rec.write_grant();
    rec.doctor_add(NEW, A, NodeKind::File, grant);
    let nodes = rec.shared_nodes();
    let view = SharedView {
        nodes: &nodes,
        head: Some(rec.head()),
        head_leaves: &rec.leaves,
        folder: A,
    };
    let checked = check_shared(
        &view,
        &rec.owner(),
        &authors,
        &GrantKnowledge::at(NOW + 1000),
        None,
        &[],
    )
    .unwrap();
    assert!(checked.pending.is_empty());
    assert_eq!(checked.late.len(), 1);
    assert_eq!(checked.late[0].node_id, NEW);
}

/// A write grant of the file F alone (a share of one document).
fn file_grant(rec: &Rec) -> crate::crypto::sign::Signed<crate::model::Grant> {
    rec.grant(F, Permission::ReadWrite, &rec.owner_key)
}

#[test]
fn a_doctor_with_a_file_grant_adds_a_version_of_that_file() {
    let mut rec = Rec::new();
    let grant = file_grant(&rec);
    rec.doctor_edit(F, grant, &key(2), |n| {
        n.current = Some(version(n, 2, DOCTOR, &key(2)));
        n.version_count = 2;
        n.metadata = vec![96; 80];
    });
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    assert_eq!(checked.pending, vec![F]);
}

#[test]
fn a_file_grant_allows_nothing_but_that_file_where_it_is() {
    // Moved, even within the folder around it.
    let mut rec = Rec::new();
    let grant = file_grant(&rec);
    rec.doctor_edit(F, grant.clone(), &key(2), |n| n.parent_id = Some(S));
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: F })
    );
    // Put in the trash.
    let mut rec = Rec::new();
    rec.doctor_edit(F, grant.clone(), &key(2), |n| n.trashed_at = Some(NOW));
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: F })
    );
    // A node "under" the file, as a colluding server could serve it.
    let mut rec = Rec::new();
    rec.doctor_add(NEW, F, NodeKind::File, grant.clone());
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: NEW })
    );
    // Another file beside it.
    let mut rec = Rec::new();
    rec.doctor_edit(G, grant, &key(2), |n| {
        n.current = Some(version(n, 2, DOCTOR, &key(2)));
        n.version_count = 2;
    });
    assert_eq!(
        rec.check(&rec.tree(), None, &[]),
        Err(RecordAlarm::NotAllowed { node: G })
    );
}
