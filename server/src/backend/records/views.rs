//! What the client sees of stored nodes and versions: the views, with the
//! authors' usernames looked up once per answer.

use shared::{
    api::{
        records::{NodeKind, NodeView, RecordTree, VersionView},
        ApiError,
    },
    crypto::sign::Signed,
    model::{Grant, Id},
};

use super::{
    layout::{RecordHead, StoredNode, StoredVersion},
    Names,
};
use crate::{
    backend::{store_error, ServerBackend},
    store::StoreError,
};

impl ServerBackend {
    pub(crate) async fn author_name(&self, id: &Id, names: &mut Names) -> Result<String, ApiError> {
        if let Some(name) = names.get(id) {
            return Ok(name.clone());
        }
        let name = match self.user_by_id(id).await? {
            Some(user) => user.username,
            None => String::from("(a deleted account)"),
        };
        names.insert(*id, name.clone());
        Ok(name)
    }

    pub(super) async fn version_view(
        &self,
        node_id: &Id,
        version: StoredVersion,
        names: &mut Names,
    ) -> Result<VersionView, ApiError> {
        let author_name = self.author_name(&version.author_id, names).await?;
        let manifest = self.stored_manifest(node_id, version.version).await?;
        let write_grant = self.write_grant(version.grant_id).await?;
        Ok(VersionView {
            node_id: *node_id,
            version: version.version,
            chunk_size: version.chunk_size,
            ciphertext_len: version.ciphertext_len,
            wrapped_content_key: version.wrapped_content_key,
            manifest,
            author_id: version.author_id,
            author_name,
            stored_at: version.stored_at,
            write_grant,
        })
    }

    /// The signed grant a doctor wrote under, by id.
    async fn write_grant(&self, id: Option<Id>) -> Result<Option<Signed<Grant>>, ApiError> {
        match id {
            Some(id) => Ok(Some(
                self.stored_grant(&id)
                    .await?
                    .ok_or_else(|| {
                        store_error(StoreError::Corrupt("a write grant is missing".into()))
                    })?
                    .1
                    .grant,
            )),
            None => Ok(None),
        }
    }

    pub(crate) async fn node_view(
        &self,
        node: StoredNode,
        names: &mut Names,
    ) -> Result<NodeView, ApiError> {
        let current = match (node.kind, node.current) {
            (NodeKind::File, Some(v)) => {
                let version = self
                    .stored_version(&node.node_id, v)
                    .await?
                    .ok_or_else(|| {
                        store_error(StoreError::Corrupt(
                            "a file's current version is missing".into(),
                        ))
                    })?;
                Some(self.version_view(&node.node_id, version, names).await?)
            }
            _ => None,
        };
        Ok(NodeView {
            node_id: node.node_id,
            parent_id: node.parent_id,
            kind: node.kind,
            wrapped_key: node.wrapped_key,
            metadata: node.metadata,
            revision: node.revision,
            trashed_at: node.trashed_at,
            current,
            version_count: node.version_count,
            state: node.state,
            write_grant: self.write_grant(node.write_grant).await?,
        })
    }

    /// The whole record as the client sees it.
    pub(super) async fn build_tree(
        &self,
        owner: &Id,
        head: &RecordHead,
    ) -> Result<RecordTree, ApiError> {
        let mut names = Names::new();
        let mut nodes = Vec::new();
        for node in self.all_nodes(owner).await? {
            if node.kind == NodeKind::File && node.current.is_none() {
                continue;
            }
            nodes.push(self.node_view(node, &mut names).await?);
        }
        Ok(RecordTree {
            owner_id: *owner,
            root_id: head.root_id,
            nodes,
            usage: self.usage(head),
            seq: head.seq,
            head: head.signed.clone(),
            head_leaves: self.head_leaves(owner, head).await?,
        })
    }
}
