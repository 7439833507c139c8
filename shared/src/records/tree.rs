//! A record as the browser holds it once opened: every node whose key chain
//! reaches the root, decrypted, with parent and child links.

use crate::{
    crypto::{aead::Key256, hpke, CryptoError},
    model::Id,
};

use super::{
    open_metadata, unwrap_child_key, unwrap_root_key, NodeMetadata, SearchFilter, VitalReading,
};

/// A node the client could open: its view, its key and its metadata.
#[derive(Clone)]
pub struct OpenNode {
    /// As the server stores it.
    pub view: crate::api::records::NodeView,
    /// The node key.
    pub key: Key256,
    /// The decrypted metadata.
    pub metadata: NodeMetadata,
}

impl OpenNode {
    /// The node's id.
    pub fn id(&self) -> &Id {
        &self.view.node_id
    }

    /// Whether it is a folder.
    pub fn is_folder(&self) -> bool {
        self.view.kind == crate::api::records::NodeKind::Folder
    }
}

/// A record opened in the browser: every node whose key chain reaches the
/// root, decrypted, with parent and child links. Cloning shares the nodes
/// (they never change once opened), so the app can hand the tree of a record
/// of 10,000 items from its store to each page without copying it.
#[derive(Clone)]
pub struct OpenTree {
    /// The patient who owns the record.
    pub owner_id: Id,
    /// The root folder.
    pub root_id: Id,
    /// Quota as the server reported it.
    pub usage: crate::api::records::Usage,
    nodes: std::sync::Arc<std::collections::HashMap<Id, OpenNode>>,
    children: std::sync::Arc<std::collections::HashMap<Id, Vec<Id>>>,
    /// Nodes that could not be opened (a key or metadata that does not
    /// decrypt, or an orphan); the app reports them instead of hiding them.
    pub unreadable: Vec<Id>,
}

impl OpenTree {
    /// Opens a record with its owner's secret key: the root key through HPKE,
    /// then each node key under its parent's, then each node's metadata.
    pub fn open(
        tree: crate::api::records::RecordTree,
        owner_secret: &hpke::EncryptionSecretKey,
    ) -> Result<OpenTree, CryptoError> {
        let root = tree
            .nodes
            .iter()
            .find(|n| n.node_id == tree.root_id && n.parent_id.is_none())
            .ok_or(CryptoError::Malformed)?;
        let root_key = unwrap_root_key(
            owner_secret,
            &tree.owner_id,
            &tree.root_id,
            &root.wrapped_key,
        )?;
        Self::open_from(
            tree.owner_id,
            tree.root_id,
            root_key,
            tree.nodes,
            tree.usage,
        )
    }

    /// Opens the subtree under `top_id` given its node key (the whole record
    /// when `top_id` is the root; a shared folder for a doctor).
    pub fn open_from(
        owner_id: Id,
        top_id: Id,
        top_key: Key256,
        views: Vec<crate::api::records::NodeView>,
        usage: crate::api::records::Usage,
    ) -> Result<OpenTree, CryptoError> {
        use std::collections::HashMap;
        let mut by_parent: HashMap<Id, Vec<crate::api::records::NodeView>> = HashMap::new();
        let mut top = None;
        let mut all_ids = Vec::new();
        for view in views {
            all_ids.push(view.node_id);
            if view.node_id == top_id {
                top = Some(view);
            } else if let Some(parent) = view.parent_id {
                by_parent.entry(parent).or_default().push(view);
            }
        }
        let top = top.ok_or(CryptoError::Malformed)?;
        let top_metadata = open_metadata(&top_key, &top_id, &top.metadata)?;
        let mut nodes: HashMap<Id, OpenNode> = HashMap::with_capacity(all_ids.len());
        let mut children: HashMap<Id, Vec<Id>> = HashMap::new();
        let mut unreadable = Vec::new();
        nodes.insert(
            top_id,
            OpenNode {
                view: top,
                key: top_key,
                metadata: top_metadata,
            },
        );
        let mut queue = vec![top_id];
        while let Some(parent_id) = queue.pop() {
            let Some(kids) = by_parent.remove(&parent_id) else {
                continue;
            };
            for view in kids {
                let id = view.node_id;
                let opened = nodes.get(&parent_id).and_then(|parent| {
                    let key =
                        unwrap_child_key(&parent.key, &id, &parent_id, &view.wrapped_key).ok()?;
                    let metadata = open_metadata(&key, &id, &view.metadata).ok()?;
                    Some((key, metadata))
                });
                match opened {
                    Some((key, metadata)) => {
                        children.entry(parent_id).or_default().push(id);
                        nodes.insert(
                            id,
                            OpenNode {
                                view,
                                key,
                                metadata,
                            },
                        );
                        queue.push(id);
                    }
                    None => unreadable.push(id),
                }
            }
        }
        // Whatever was never reached hangs off a missing or unreadable parent.
        for id in all_ids {
            if !nodes.contains_key(&id) && !unreadable.contains(&id) {
                unreadable.push(id);
            }
        }
        let tree = OpenTree {
            owner_id,
            root_id: top_id,
            usage,
            nodes: std::sync::Arc::new(nodes),
            children: std::sync::Arc::new(children),
            unreadable,
        };
        Ok(tree)
    }

    /// A node by id.
    pub fn node(&self, id: &Id) -> Option<&OpenNode> {
        self.nodes.get(id)
    }

    /// Whether `folder` is `inner` or a folder above it, as far as this tree
    /// reaches (a doctor's tree starts at the shared folder).
    pub fn covers(&self, folder: &Id, inner: &Id) -> bool {
        let mut next = Some(*inner);
        // At most one step per node: a cycle in what the server sent ends here.
        for _ in 0..=self.nodes.len() {
            match next {
                Some(id) if id == *folder => return true,
                Some(id) => next = self.nodes.get(&id).and_then(|n| n.view.parent_id),
                None => return false,
            }
        }
        false
    }

    /// Every opened node, in no particular order.
    pub fn nodes(&self) -> impl Iterator<Item = &OpenNode> {
        self.nodes.values()
    }

    /// The root (or shared top) folder.
    pub fn root(&self) -> Option<&OpenNode> {
        self.nodes.get(&self.root_id)
    }

    /// The children of a folder that are not in the trash: folders first, then
    /// by name (case-insensitive).
    pub fn children(&self, id: &Id) -> Vec<&OpenNode> {
        let mut kids: Vec<&OpenNode> = self
            .children
            .get(id)
            .map(|ids| ids.iter().filter_map(|c| self.nodes.get(c)).collect())
            .unwrap_or_default();
        kids.retain(|n| n.view.trashed_at.is_none());
        crate::sort::sort_by_key(&mut kids, |n| {
            (!n.is_folder(), n.metadata.name.to_lowercase())
        });
        kids
    }

    /// The folders from the top down to `id`, both included.
    pub fn path(&self, id: &Id) -> Vec<&OpenNode> {
        let mut path = Vec::new();
        let mut at = self.nodes.get(id);
        while let Some(node) = at {
            path.push(node);
            if node.view.node_id == self.root_id || path.len() > self.nodes.len() {
                break;
            }
            at = node.view.parent_id.and_then(|p| self.nodes.get(&p));
        }
        path.reverse();
        path
    }

    /// Whether the node or one of its ancestors is in the trash.
    pub fn in_trash(&self, id: &Id) -> bool {
        self.path(id).iter().any(|n| n.view.trashed_at.is_some())
    }

    /// The nodes put in the trash themselves (not their descendants), most
    /// recently trashed first.
    pub fn trash(&self) -> Vec<&OpenNode> {
        let mut trashed: Vec<&OpenNode> = self
            .nodes
            .values()
            .filter(|n| n.view.trashed_at.is_some())
            .collect();
        crate::sort::sort_by_key(&mut trashed, |n| std::cmp::Reverse(n.view.trashed_at));
        trashed
    }

    /// Whether `id` is `ancestor` or lies under it (a move target check).
    pub fn is_within(&self, id: &Id, ancestor: &Id) -> bool {
        self.path(id).iter().any(|n| n.view.node_id == *ancestor)
    }

    /// Nodes outside the trash that match `filter` (words, type, clinical
    /// date range), by name.
    pub fn search(&self, filter: &SearchFilter) -> Vec<&OpenNode> {
        let mut found: Vec<&OpenNode> = self
            .nodes
            .values()
            .filter(|n| n.view.node_id != self.root_id)
            .filter(|n| filter.matches(&n.metadata))
            .filter(|n| !self.in_trash(&n.view.node_id))
            .collect();
        crate::sort::sort_by_key(&mut found, |n| n.metadata.name.to_lowercase());
        found
    }

    /// Who signed `node`'s current state: the owner for a node without one
    /// (written before records were signed), else the state's author.
    pub fn author_of(&self, node: &OpenNode) -> Id {
        node.view
            .state
            .as_ref()
            .map_or(self.owner_id, |s| s.value.author_id)
    }

    /// Every health-summary entry outside the trash, with its node, in no
    /// particular order ([`super::group_items`] orders them).
    pub fn health_entries(&self) -> Vec<(&OpenNode, &super::HealthEntry)> {
        self.nodes
            .values()
            .filter(|n| !self.in_trash(&n.view.node_id))
            .filter_map(|n| n.metadata.health.as_ref().map(|h| (n, h)))
            .collect()
    }

    /// Every vital-sign reading outside the trash, oldest first, with its node.
    pub fn vitals(&self) -> Vec<(&OpenNode, &VitalReading)> {
        let mut readings: Vec<(&OpenNode, &VitalReading)> = self
            .nodes
            .values()
            .filter(|n| !self.in_trash(&n.view.node_id))
            .filter_map(|n| n.metadata.vital.as_ref().map(|v| (n, v)))
            .collect();
        crate::sort::sort_by_key(&mut readings, |(_, v)| v.taken_at);
        readings
    }
}
