//! Signed records in the test harness: the states and heads a browser sends
//! with each change (docs/PROTOCOL.md, section 4.5), made here the way the
//! app makes them, so the existing tests run with the server's checks on.

use serde_json::Value;
use shared::{
    api::{
        records::{NodeView, RecordTree, VersionView},
        sharing::{GrantStatus, GrantView, SharedScope},
    },
    crypto::{b64, sign::Signed},
    model::Id,
    records::{HeadLeaf, NodeState, RecordHead},
};

use super::patient::Patient;

/// The leaves of a tree's nodes, with `states` put in place of their nodes'
/// (a new node's added) and `removed` left out.
pub fn leaves_with(
    tree: &RecordTree,
    states: &[Signed<NodeState>],
    removed: &[Id],
) -> Vec<HeadLeaf> {
    let mut out: Vec<HeadLeaf> = tree
        .nodes
        .iter()
        .filter(|n| !removed.contains(&n.node_id))
        .filter(|n| !states.iter().any(|s| s.value.node_id == n.node_id))
        .filter_map(|n| n.state.as_ref().map(HeadLeaf::of))
        .collect();
    out.extend(states.iter().map(HeadLeaf::of));
    out
}

impl Patient {
    /// The record's next head over its tree with `states` in place and
    /// `removed` gone, signed by this patient.
    pub fn next_head_over(
        &self,
        tree: &RecordTree,
        states: &[Signed<NodeState>],
        removed: &[Id],
        now: i64,
    ) -> Signed<RecordHead> {
        let current = tree.head.as_ref().expect("a signed record");
        RecordHead::next(current, &leaves_with(tree, states, removed), now)
            .sign(self.keyring.identity())
    }

    /// The record's next head over the record as the server has it now with
    /// `states` in place and `removed` gone.
    pub async fn next_head(
        &self,
        states: &[Signed<NodeState>],
        removed: &[Id],
        now: i64,
    ) -> Signed<RecordHead> {
        let tree = self.raw_tree().await;
        self.next_head_over(&tree, states, removed, now)
    }

    /// Signs `view` (the node as a change leaves it) in `owner`'s record.
    pub fn state_in(&self, owner: &Id, view: &NodeView, now: i64) -> Signed<NodeState> {
        NodeState::describe(*owner, view, self.id, now).sign(self.keyring.identity())
    }

    /// A node as the caller can see it: in their own record, or (a doctor)
    /// in a folder an active grant shares, with the record's owner.
    pub async fn view_anywhere(&self, id: &Id) -> Option<(Id, NodeView)> {
        if let Ok(Some(tree)) = self.c.get::<Option<RecordTree>>("/api/records/tree").await {
            return tree
                .nodes
                .into_iter()
                .find(|n| n.node_id == *id)
                .map(|n| (self.id, n));
        }
        let grants: Vec<GrantView> = self.c.get("/api/sharing/grants").await.ok()?;
        for g in grants {
            if g.status != GrantStatus::Active || g.grant.value.doctor_id != self.id {
                continue;
            }
            let Ok(scope) = self
                .c
                .get::<SharedScope>(&format!(
                    "/api/sharing/shared?grant_id={}",
                    b64::encode(&g.grant.value.grant_id)
                ))
                .await
            else {
                continue;
            };
            if let Some(n) = scope.nodes.into_iter().find(|n| n.node_id == *id) {
                return Some((g.grant.value.patient_id, n));
            }
        }
        None
    }

    /// Adds the signed state of the node `id` as `change` leaves it (and,
    /// in the caller's own record, the next head) to a request body's
    /// `request` object; a node the caller cannot see gets neither (the
    /// server refuses such a change before it looks at signatures).
    pub async fn sign_request(
        &self,
        body: &mut Value,
        id: &Id,
        now: i64,
        change: impl FnOnce(&mut NodeView),
    ) {
        let Some((owner, mut view)) = self.view_anywhere(id).await else {
            return;
        };
        change(&mut view);
        let state = self.state_in(&owner, &view, now);
        let request = &mut body["request"];
        request["state"] = serde_json::to_value(&state).unwrap();
        if owner == self.id {
            let tree = self.raw_tree().await;
            if tree.head.is_some() {
                let head = self.next_head_over(&tree, &[state], &[], now);
                body["request"]["head"] = serde_json::to_value(&head).unwrap();
            }
        }
    }

    /// The version `version` of file `id`, as listed.
    pub async fn version_view(&self, id: &Id, version: u32) -> Option<VersionView> {
        self.versions(id)
            .await
            .ok()?
            .into_iter()
            .find(|v| v.version == version)
    }
}

impl Patient {
    /// Adds to a rotation's parts each re-keyed node's new state (new key,
    /// metadata and re-wrapped current version, revision + 1) and answers
    /// the record's next head over them, as the patient's browser does.
    pub fn sign_rotation(
        &self,
        tree: &RecordTree,
        parts: &mut [shared::api::sharing::RotationPart],
        now: i64,
    ) -> Signed<RecordHead> {
        let keys: std::collections::HashMap<(Id, u32), Vec<u8>> = parts
            .iter()
            .flat_map(|p| p.versions.iter())
            .map(|v| ((v.node_id, v.version), v.wrapped_content_key.clone()))
            .collect();
        let mut states = Vec::new();
        for part in parts.iter_mut() {
            for n in &mut part.nodes {
                let Some(mut view) = tree.nodes.iter().find(|v| v.node_id == n.node_id).cloned()
                else {
                    continue;
                };
                view.wrapped_key = n.wrapped_key.clone();
                view.metadata = n.metadata.clone();
                view.revision += 1;
                if let Some(c) = view.current.as_mut() {
                    if let Some(k) = keys.get(&(c.node_id, c.version)) {
                        c.wrapped_content_key = k.clone();
                    }
                }
                let state = self.state_in(&self.id, &view, now);
                n.state = Some(state.clone());
                states.push(state);
            }
        }
        self.next_head_over(tree, &states, &[], now)
    }
}

/// A doctor account, driven with the same helpers as a patient.
pub async fn writer(s: &super::Server, name: &str) -> Patient {
    let c = s.client();
    let (info, account) = c
        .signup(
            name,
            Some(s.cli_invite(shared::model::Role::Doctor)),
            s.now(),
        )
        .await
        .unwrap();
    Patient {
        c,
        id: info.user_id,
        name: info.username,
        keyring: account.keyring,
    }
}

/// A user's directory entry, as served (and self-signed).
pub async fn entry(c: &super::Client, username: &str) -> shared::model::KeyEntry {
    let served: shared::api::directory::DirectoryEntry = c
        .post(
            "/api/directory/lookup",
            &serde_json::json!({ "username": username }),
        )
        .await
        .unwrap();
    served.entry.verify_self().unwrap().clone()
}

/// `p` shares `node` with doctor `d` to read and write; answers the grant id.
pub async fn share_rw(
    s: &super::Server,
    p: &Patient,
    d: &Patient,
    node: &shared::records::OpenNode,
) -> Id {
    let doctor = entry(&p.c, &d.name).await;
    let me = entry(&p.c, &p.name).await;
    let choice = shared::sharing::GrantChoice {
        doctor,
        node_id: *node.id(),
        node_key: node.key.clone(),
        permission: shared::model::Permission::ReadWrite,
        expires_at: None,
        emergency: false,
    };
    let (grant, wrapped) =
        shared::sharing::make_grant(&me, p.keyring.identity(), &choice, s.now()).unwrap();
    let view: GrantView = p
        .c
        .post(
            "/api/sharing/grant/create",
            &serde_json::json!({ "request": { "grant": grant, "wrapped_key": b64::encode(&wrapped), "request_id": null } }),
        )
        .await
        .unwrap();
    view.grant.value.grant_id
}

impl Patient {
    /// A node of the folder `grant` shares, opened as the doctor's browser
    /// opens it.
    pub async fn scope_node(&self, grant: &Id, node: &Id) -> shared::records::OpenNode {
        let scope: SharedScope = self
            .c
            .get(&format!(
                "/api/sharing/shared?grant_id={}",
                b64::encode(grant)
            ))
            .await
            .unwrap();
        let patient = entry(&self.c, &scope.grant.patient_name).await;
        let opened = shared::sharing::open_grant(
            &scope.grant,
            &patient,
            &self.id,
            self.keyring.encryption(),
        )
        .unwrap();
        let tree = shared::records::OpenTree::open_from(
            patient.user_id,
            opened.grant.node_id,
            opened.node_key,
            scope.nodes,
            scope.usage,
        )
        .unwrap();
        tree.node(node).unwrap().clone()
    }
}
