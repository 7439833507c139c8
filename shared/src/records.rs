//! A patient's record in plaintext, and the steps that encrypt it: node metadata,
//! vital signs, size padding and the key tree (DESIGN.md, "Records as a key tree").
//!
//! The server holds only what these functions output. Everything here is pure, so
//! the browser app, the server's tests and the benchmarks run the same code.
//!
//! # Key tree (protocol v1)
//!
//! - The root folder's node key is wrapped to the patient's X25519 key with
//!   [`hpke::wrap_node_key`] (recipient = the patient's user id, node = root id).
//! - Every other node key is a sealed box under its parent's node key with
//!   associated data `bind(NODE_KEY_WRAP, [node_id, parent_id])`
//!   ([`wrap_child_key`]); moving a node re-wraps its key under the new parent.
//! - Node metadata ([`NodeMetadata`], JSON) is padded ([`pad_metadata`]) and sealed
//!   under the node key with associated data `bind(NODE_METADATA, [node_id])`.
//! - Each file version has a fresh content key, sealed under the node key with
//!   associated data `bind(CONTENT_KEY_WRAP, [node_id, u32be(version)])`. The
//!   content is the [`crate::crypto::stream`] of the *padded* file: the file's
//!   bytes, then `0x80`, then zero bytes up to [`padded_len`] (ISO/IEC 7816-4
//!   padding to a Padmé length), so the server learns only a coarse size.

use serde::{Deserialize, Serialize};

use crate::crypto::{
    aead::{self, Key256},
    context, hpke, CryptoError,
};
use crate::model::{FileManifest, Id};

/// Longest name of a file or folder, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Metadata plaintext is padded to a multiple of this many bytes.
pub const METADATA_BLOCK: usize = 256;
/// Largest sealed metadata the server accepts (padded JSON plus the box).
pub const MAX_SEALED_METADATA: usize = 16 * 1024;

/// What kind of health record an item is. Shown in the app and used by search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// Blood tests and other laboratory results.
    LabResult,
    /// Prescriptions and medication lists.
    Prescription,
    /// X-rays, scans and their reports.
    Imaging,
    /// Free-text notes.
    Note,
    /// Temperature, blood pressure, pulse, weight, blood glucose.
    VitalSigns,
    /// Anything else.
    Other,
}

impl RecordType {
    /// Every type, in the order the app lists them.
    pub const ALL: [RecordType; 6] = [
        RecordType::LabResult,
        RecordType::Prescription,
        RecordType::Imaging,
        RecordType::Note,
        RecordType::VitalSigns,
        RecordType::Other,
    ];

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            RecordType::LabResult => "Lab result",
            RecordType::Prescription => "Prescription",
            RecordType::Imaging => "Imaging",
            RecordType::Note => "Note",
            RecordType::VitalSigns => "Vital signs",
            RecordType::Other => "Other",
        }
    }
}

/// The folders a new record starts with: (name, type of what goes in them).
pub const STARTER_FOLDERS: [(&str, RecordType); 5] = [
    ("Lab results", RecordType::LabResult),
    ("Prescriptions", RecordType::Prescription),
    ("Imaging", RecordType::Imaging),
    ("Notes", RecordType::Note),
    ("Vital signs", RecordType::VitalSigns),
];

/// A vital sign the app records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalKind {
    /// Body temperature, stored in °C.
    Temperature,
    /// Systolic over diastolic, stored in mmHg.
    BloodPressure,
    /// Heart rate, stored in beats per minute.
    Pulse,
    /// Body weight, stored in kg.
    Weight,
    /// Blood glucose, stored in mmol/L.
    BloodGlucose,
}

impl VitalKind {
    /// Every kind, in the order the app lists them.
    pub const ALL: [VitalKind; 5] = [
        VitalKind::Temperature,
        VitalKind::BloodPressure,
        VitalKind::Pulse,
        VitalKind::Weight,
        VitalKind::BloodGlucose,
    ];

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            VitalKind::Temperature => "Temperature",
            VitalKind::BloodPressure => "Blood pressure",
            VitalKind::Pulse => "Pulse",
            VitalKind::Weight => "Weight",
            VitalKind::BloodGlucose => "Blood glucose",
        }
    }

    /// The unit values are stored in.
    pub fn unit(self) -> &'static str {
        match self {
            VitalKind::Temperature => "°C",
            VitalKind::BloodPressure => "mmHg",
            VitalKind::Pulse => "bpm",
            VitalKind::Weight => "kg",
            VitalKind::BloodGlucose => "mmol/L",
        }
    }

    /// The range a living person's reading can fall in, in the stored unit.
    /// Anything outside is a typing mistake and is refused.
    pub fn plausible(self) -> (f64, f64) {
        match self {
            VitalKind::Temperature => (30.0, 45.0),
            VitalKind::BloodPressure => (30.0, 300.0),
            VitalKind::Pulse => (20.0, 250.0),
            VitalKind::Weight => (0.5, 500.0),
            VitalKind::BloodGlucose => (1.0, 50.0),
        }
    }
}

/// One vital-sign reading, in the stored units of its [`VitalKind`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalReading {
    /// What was measured.
    pub kind: VitalKind,
    /// When, Unix seconds.
    pub taken_at: i64,
    /// The value (systolic for blood pressure).
    pub value: f64,
    /// Diastolic for blood pressure; `None` otherwise.
    pub second: Option<f64>,
}

impl VitalReading {
    /// Checks the reading is possible, with a sentence for the person if not.
    pub fn validate(&self) -> Result<(), String> {
        let (low, high) = self.kind.plausible();
        let unit = self.kind.unit();
        let in_range = |v: f64| v.is_finite() && v >= low && v <= high;
        if !in_range(self.value) {
            return Err(format!(
                "{} must be between {low} and {high} {unit}.",
                self.kind.label()
            ));
        }
        match (self.kind, self.second) {
            (VitalKind::BloodPressure, Some(diastolic)) => {
                if !in_range(diastolic) {
                    return Err(format!(
                        "The lower blood pressure number must be between {low} and {high} {unit}."
                    ));
                }
                if diastolic >= self.value {
                    return Err(
                        "The first blood pressure number (systolic) must be higher than the second (diastolic)."
                            .into(),
                    );
                }
                Ok(())
            }
            (VitalKind::BloodPressure, None) => {
                Err("Blood pressure needs both numbers, for example 120 over 80.".into())
            }
            (_, Some(_)) => Err(format!("{} takes one number.", self.kind.label())),
            (_, None) => Ok(()),
        }
    }
}

/// The encrypted description of one node. The server never sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeMetadata {
    /// File or folder name, 1 to [`MAX_NAME_CHARS`] characters, no control
    /// characters.
    pub name: String,
    /// What kind of record this is.
    pub record_type: RecordType,
    /// Optional free text, up to [`MAX_DESCRIPTION_CHARS`].
    #[serde(default)]
    pub description: String,
    /// The date the record is about (a lab's sampling date), `YYYY-MM-DD`.
    #[serde(default)]
    pub record_date: Option<String>,
    /// When the node was created, Unix seconds.
    pub created_at: i64,
    /// When the metadata or content last changed, Unix seconds.
    pub modified_at: i64,
    /// Files: the MIME type of the current version.
    #[serde(default)]
    pub mime: Option<String>,
    /// Files: the exact size of the current version in bytes (the server sees
    /// only the padded size).
    #[serde(default)]
    pub size: Option<u64>,
    /// Vital-sign entries: the reading.
    #[serde(default)]
    pub vital: Option<VitalReading>,
}

impl NodeMetadata {
    /// Checks name, description and reading, with a sentence for the person.
    pub fn validate(&self) -> Result<(), String> {
        validate_name(&self.name)?;
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "The description is too long: at most {MAX_DESCRIPTION_CHARS} characters."
            ));
        }
        if let Some(date) = &self.record_date {
            if !is_iso_date(date) {
                return Err("The date must be a real date (YYYY-MM-DD).".into());
            }
        }
        if let Some(vital) = &self.vital {
            vital.validate()?;
        }
        Ok(())
    }
}

/// Checks a file or folder name: not blank, at most [`MAX_NAME_CHARS`]
/// characters, no control characters and no `/`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("Enter a name.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "The name is too long: at most {MAX_NAME_CHARS} characters."
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err("A name cannot contain / or invisible control characters.".into());
    }
    Ok(())
}

fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    if text.len() != 10 || !(1900..=2999).contains(&y) || !(1..=12).contains(&m) {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days).contains(&d)
}

/// The Padmé length of `len` (Nikitin et al., "Reducing Metadata Leakage from
/// Encrypted Files and Communication with PURBs", PETS 2019): round up so that
/// only the top `floor(log2(floor(log2 len))) + 1` bits of the length remain.
/// At most 12% overhead, and lengths leak only O(log log len) bits.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2 len)
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    (len + mask) & !mask
}

/// The stream plaintext length for a file of `file_len` bytes: the Padmé
/// length of the file plus its one-byte `0x80` marker.
pub fn padded_len(file_len: u64) -> u64 {
    padme(file_len.saturating_add(1))
}

/// Where a file's bytes and its padding fall in the chunks of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLayout {
    /// The file's exact size.
    pub file_len: u64,
    /// The stream plaintext size ([`padded_len`]).
    pub padded_len: u64,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
}

impl StreamLayout {
    /// The layout of a `file_len`-byte file in chunks of `chunk_size`.
    pub fn new(file_len: u64, chunk_size: u32) -> Result<Self, CryptoError> {
        let layout = StreamLayout {
            file_len,
            padded_len: padded_len(file_len),
            chunk_size,
        };
        crate::crypto::stream::chunk_count(layout.padded_len, chunk_size)?;
        Ok(layout)
    }

    /// How many chunks the stream has.
    pub fn chunk_count(&self) -> u64 {
        self.padded_len
            .div_ceil(u64::from(self.chunk_size.max(1)))
            .max(1)
    }

    /// The ciphertext length the server will hold (padded plaintext plus tags).
    pub fn ciphertext_len(&self) -> u64 {
        self.padded_len + self.chunk_count() * crate::crypto::stream::TAG_LEN as u64
    }

    /// The byte range of the file that chunk `index` carries (empty once the
    /// chunk is all padding).
    pub fn file_range(&self, index: u64) -> std::ops::Range<u64> {
        let start = index.saturating_mul(u64::from(self.chunk_size));
        let end = start.saturating_add(u64::from(self.chunk_size));
        start.min(self.file_len)..end.min(self.file_len)
    }

    /// Builds chunk `index`'s plaintext into `out` from the file bytes of
    /// [`Self::file_range`] (`file_part`), adding the marker and zeros where
    /// the chunk reaches past the end of the file.
    pub fn assemble(&self, index: u64, file_part: &[u8], out: &mut Vec<u8>) {
        let start = index.saturating_mul(u64::from(self.chunk_size));
        let end = start
            .saturating_add(u64::from(self.chunk_size))
            .min(self.padded_len);
        out.extend_from_slice(file_part);
        let mut at = start + file_part.len() as u64;
        if at == self.file_len && at < end {
            out.push(0x80);
            at += 1;
        }
        if at < end {
            out.resize(out.len() + (end - at) as usize, 0);
        }
    }

    /// Whether chunk `index` is the last one.
    pub fn is_last(&self, index: u64) -> bool {
        index + 1 == self.chunk_count()
    }
}

/// Removes ISO/IEC 7816-4 padding from a stream fed chunk by chunk, holding
/// back only a count (the trailing `0x80` and zeros), never the bytes.
#[derive(Debug, Default)]
pub struct Unpadder {
    /// A `0x80` that may be the marker, held back.
    marker: bool,
    /// Zero bytes after it (or after the last data byte), held back.
    zeros: u64,
    /// File bytes released so far.
    released: u64,
}

impl Unpadder {
    /// A fresh unpadder for one stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends to `out` every byte of `plain` that is certainly file content.
    pub fn update(&mut self, plain: &[u8], out: &mut Vec<u8>) {
        let Some(last) = plain.iter().rposition(|&b| b != 0) else {
            self.zeros += plain.len() as u64;
            return;
        };
        // A non-zero byte follows whatever was held back: it was content.
        self.release_held(out);
        let (body, tail) = plain.split_at(last);
        out.extend_from_slice(body);
        self.released += body.len() as u64;
        if tail[0] == 0x80 {
            self.marker = true;
        } else {
            out.push(tail[0]);
            self.released += 1;
        }
        self.zeros = (tail.len() - 1) as u64;
    }

    fn release_held(&mut self, out: &mut Vec<u8>) {
        if self.marker {
            out.push(0x80);
            self.released += 1;
            self.marker = false;
        }
        out.resize(out.len() + self.zeros as usize, 0);
        self.released += self.zeros;
        self.zeros = 0;
    }

    /// Ends the stream: the file's length, or [`CryptoError::Stream`] if the
    /// padding is not a `0x80` followed by zeros.
    pub fn finish(self) -> Result<u64, CryptoError> {
        if self.marker {
            Ok(self.released)
        } else {
            Err(CryptoError::Stream)
        }
    }
}

/// Pads serialised metadata to a multiple of [`METADATA_BLOCK`] (`0x80` then
/// zeros), so names of similar length look alike.
pub fn pad_metadata(json: &[u8]) -> Vec<u8> {
    let len = (json.len() + 1).div_ceil(METADATA_BLOCK) * METADATA_BLOCK;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(json);
    out.push(0x80);
    out.resize(len, 0);
    out
}

/// Strips [`pad_metadata`]'s padding.
pub fn unpad_metadata(padded: &[u8]) -> Result<&[u8], CryptoError> {
    let end = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(CryptoError::Malformed)?;
    if padded[end] != 0x80 {
        return Err(CryptoError::Malformed);
    }
    Ok(&padded[..end])
}

/// Seals `metadata` under its node's key.
pub fn seal_metadata(
    node_key: &Key256,
    node_id: &Id,
    metadata: &NodeMetadata,
) -> Result<Vec<u8>, CryptoError> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(metadata).map_err(|_| CryptoError::Malformed)?);
    let padded = zeroize::Zeroizing::new(pad_metadata(&json));
    aead::seal(
        node_key,
        &context::bind(context::NODE_METADATA, &[node_id]),
        &padded,
    )
}

/// Opens metadata sealed by [`seal_metadata`] for this node.
pub fn open_metadata(
    node_key: &Key256,
    node_id: &Id,
    sealed: &[u8],
) -> Result<NodeMetadata, CryptoError> {
    let padded = aead::open(
        node_key,
        &context::bind(context::NODE_METADATA, &[node_id]),
        sealed,
    )?;
    serde_json::from_slice(unpad_metadata(&padded)?).map_err(|_| CryptoError::Malformed)
}

/// Wraps a child's node key under its parent's.
pub fn wrap_child_key(
    parent_key: &Key256,
    node_id: &Id,
    parent_id: &Id,
    node_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    aead::wrap_key(parent_key, &child_key_aad(node_id, parent_id), node_key)
}

/// Unwraps a child's node key with its parent's.
pub fn unwrap_child_key(
    parent_key: &Key256,
    node_id: &Id,
    parent_id: &Id,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    aead::unwrap_key(parent_key, &child_key_aad(node_id, parent_id), wrapped)
}

fn child_key_aad(node_id: &Id, parent_id: &Id) -> Vec<u8> {
    context::bind(context::NODE_KEY_WRAP, &[node_id, parent_id])
}

/// Wraps a file version's content key under the file's node key.
pub fn wrap_content_key(
    node_key: &Key256,
    node_id: &Id,
    version: u32,
    content_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    aead::wrap_key(node_key, &content_key_aad(node_id, version), content_key)
}

/// Unwraps a file version's content key.
pub fn unwrap_content_key(
    node_key: &Key256,
    node_id: &Id,
    version: u32,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    aead::unwrap_key(node_key, &content_key_aad(node_id, version), wrapped)
}

fn content_key_aad(node_id: &Id, version: u32) -> Vec<u8> {
    context::bind(
        context::CONTENT_KEY_WRAP,
        &[node_id, &version.to_be_bytes()],
    )
}

/// Wraps the root node key to its owner (HPKE, see [`hpke::wrap_node_key`]).
pub fn wrap_root_key(
    owner: &hpke::EncryptionPublicKey,
    owner_id: &Id,
    root_id: &Id,
    root_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    hpke::wrap_node_key(owner, owner_id, root_id, root_key)
}

/// Opens the root node key with the owner's secret key.
pub fn unwrap_root_key(
    secret: &hpke::EncryptionSecretKey,
    owner_id: &Id,
    root_id: &Id,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    hpke::unwrap_node_key(secret, owner_id, root_id, wrapped)
}

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
/// root, decrypted, with parent and child links.
#[derive(Clone)]
pub struct OpenTree {
    /// The patient who owns the record.
    pub owner_id: Id,
    /// The root folder.
    pub root_id: Id,
    /// Quota as the server reported it.
    pub usage: crate::api::records::Usage,
    nodes: std::collections::HashMap<Id, OpenNode>,
    children: std::collections::HashMap<Id, Vec<Id>>,
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
        let mut tree = OpenTree {
            owner_id,
            root_id: top_id,
            usage,
            nodes: HashMap::new(),
            children: HashMap::new(),
            unreadable: Vec::new(),
        };
        tree.nodes.insert(
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
                let opened = tree.nodes.get(&parent_id).and_then(|parent| {
                    let key =
                        unwrap_child_key(&parent.key, &id, &parent_id, &view.wrapped_key).ok()?;
                    let metadata = open_metadata(&key, &id, &view.metadata).ok()?;
                    Some((key, metadata))
                });
                match opened {
                    Some((key, metadata)) => {
                        tree.children.entry(parent_id).or_default().push(id);
                        tree.nodes.insert(
                            id,
                            OpenNode {
                                view,
                                key,
                                metadata,
                            },
                        );
                        queue.push(id);
                    }
                    None => tree.unreadable.push(id),
                }
            }
        }
        // Whatever was never reached hangs off a missing or unreadable parent.
        for id in all_ids {
            if !tree.nodes.contains_key(&id) && !tree.unreadable.contains(&id) {
                tree.unreadable.push(id);
            }
        }
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
        kids.sort_by_cached_key(|n| (!n.is_folder(), n.metadata.name.to_lowercase()));
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
        trashed.sort_by_key(|n| std::cmp::Reverse(n.view.trashed_at));
        trashed
    }

    /// Whether `id` is `ancestor` or lies under it (a move target check).
    pub fn is_within(&self, id: &Id, ancestor: &Id) -> bool {
        self.path(id).iter().any(|n| n.view.node_id == *ancestor)
    }

    /// Nodes outside the trash whose name or description contains `query`
    /// (case-insensitive) and, if given, of one record type; by name.
    pub fn search(&self, query: &str, record_type: Option<RecordType>) -> Vec<&OpenNode> {
        let needle = query.trim().to_lowercase();
        let mut found: Vec<&OpenNode> = self
            .nodes
            .values()
            .filter(|n| n.view.node_id != self.root_id)
            .filter(|n| record_type.is_none_or(|t| n.metadata.record_type == t))
            .filter(|n| {
                needle.is_empty()
                    || n.metadata.name.to_lowercase().contains(&needle)
                    || n.metadata.description.to_lowercase().contains(&needle)
            })
            .filter(|n| !self.in_trash(&n.view.node_id))
            .collect();
        found.sort_by_cached_key(|n| n.metadata.name.to_lowercase());
        found
    }

    /// Every vital-sign reading outside the trash, oldest first, with its node.
    pub fn vitals(&self) -> Vec<(&OpenNode, &VitalReading)> {
        let mut readings: Vec<(&OpenNode, &VitalReading)> = self
            .nodes
            .values()
            .filter(|n| !self.in_trash(&n.view.node_id))
            .filter_map(|n| n.metadata.vital.as_ref().map(|v| (n, v)))
            .collect();
        readings.sort_by_key(|(_, v)| v.taken_at);
        readings
    }
}

/// Makes a new child node under `parent`: a fresh key, wrapped under the
/// parent's, and sealed metadata. Returns what to send and the new key.
pub fn new_child(
    parent: &OpenNode,
    kind: crate::api::records::NodeKind,
    metadata: &NodeMetadata,
) -> Result<(crate::api::records::NewNode, Key256), CryptoError> {
    let node_id: Id = crate::crypto::rng::bytes()?;
    let key = Key256::generate()?;
    let node = crate::api::records::NewNode {
        node_id,
        parent_id: Some(parent.view.node_id),
        kind,
        wrapped_key: wrap_child_key(&parent.key, &node_id, &parent.view.node_id, &key)?,
        metadata: seal_metadata(&key, &node_id, metadata)?,
    };
    Ok((node, key))
}

/// A new record for `owner`: the root (wrapped to the owner) and the
/// [`STARTER_FOLDERS`], as `records/create` takes them.
pub fn new_record(
    owner_id: &Id,
    owner_key: &hpke::EncryptionPublicKey,
    now: i64,
) -> Result<
    (
        crate::api::records::NewNode,
        Vec<crate::api::records::NewNode>,
    ),
    CryptoError,
> {
    use crate::api::records::{NewNode, NodeKind};
    let root_id: Id = crate::crypto::rng::bytes()?;
    let root_key = Key256::generate()?;
    let folder = |name: &str, record_type| NodeMetadata {
        name: name.into(),
        record_type,
        description: String::new(),
        record_date: None,
        created_at: now,
        modified_at: now,
        mime: None,
        size: None,
        vital: None,
    };
    let root = NewNode {
        node_id: root_id,
        parent_id: None,
        kind: NodeKind::Folder,
        wrapped_key: wrap_root_key(owner_key, owner_id, &root_id, &root_key)?,
        metadata: seal_metadata(&root_key, &root_id, &folder("My record", RecordType::Other))?,
    };
    let mut children = Vec::new();
    for (name, record_type) in STARTER_FOLDERS {
        let id: Id = crate::crypto::rng::bytes()?;
        let key = Key256::generate()?;
        children.push(NewNode {
            node_id: id,
            parent_id: Some(root_id),
            kind: NodeKind::Folder,
            wrapped_key: wrap_child_key(&root_key, &id, &root_id, &key)?,
            metadata: seal_metadata(&key, &id, &folder(name, record_type))?,
        });
    }
    Ok((root, children))
}

/// Checks a stored version before any of its content is used: the manifest is
/// signed by `author_key`, names this node and version, and its part list and
/// size fit the stored ciphertext. The caller must also check that the author
/// may write here (the owner, or a doctor with a write grant).
pub fn verify_version<'a>(
    version: &'a crate::api::records::VersionView,
    author_key: &crate::crypto::sign::VerifyingKey,
) -> Result<&'a FileManifest, CryptoError> {
    let manifest = version.manifest.verify(author_key)?;
    let chunks = crate::crypto::stream::chunk_count(manifest.size, version.chunk_size)?;
    let expected_len = crate::crypto::stream::ciphertext_len(manifest.size, version.chunk_size)?;
    if manifest.node_id != version.node_id
        || manifest.version != version.version
        || manifest.author_id != version.author_id
        || manifest.part_hashes.len() as u64 != chunks
        || expected_len != version.ciphertext_len
    {
        return Err(CryptoError::Malformed);
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_matches_the_paper() {
        // Values from the definition: 9 -> 10, 100 -> 104, 1000 -> 1024 (and
        // powers of two stay), overhead never above 12%.
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1), 1);
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1 << 20), 1 << 20);
        for len in (1..200_000u64).step_by(7).chain([u32::MAX as u64, 1 << 40]) {
            let p = padme(len);
            assert!(p >= len);
            assert!((p - len) as f64 <= len as f64 * 0.12 + 1.0, "{len} -> {p}");
        }
    }

    fn unpad_all(layout: &StreamLayout, file: &[u8], pieces: usize) -> Vec<u8> {
        let mut stream = Vec::new();
        for i in 0..layout.chunk_count() {
            let r = layout.file_range(i);
            layout.assemble(i, &file[r.start as usize..r.end as usize], &mut stream);
        }
        assert_eq!(stream.len() as u64, layout.padded_len);
        let mut un = Unpadder::new();
        let mut out = Vec::new();
        for piece in stream.chunks(pieces.max(1)) {
            un.update(piece, &mut out);
        }
        assert_eq!(un.finish().unwrap(), file.len() as u64);
        out
    }

    #[test]
    fn layout_and_unpadder_round_trip() {
        for len in [0usize, 1, 15, 16, 17, 100, 127, 128, 129, 1000, 4095] {
            for fill in [0u8, 0x80, 7] {
                let file: Vec<u8> = (0..len)
                    .map(|i| if i % 3 == 0 { fill } else { i as u8 })
                    .collect();
                let layout = StreamLayout::new(len as u64, 16).unwrap();
                for pieces in [1, 5, 16, 1000] {
                    assert_eq!(unpad_all(&layout, &file, pieces), file, "{len} {fill}");
                }
            }
        }
    }

    #[test]
    fn files_ending_in_zeros_or_marker_survive() {
        let file = vec![0x80, 0, 0, 0x80, 0, 0];
        let layout = StreamLayout::new(6, 4).unwrap();
        assert_eq!(unpad_all(&layout, &file, 3), file);
    }

    #[test]
    fn missing_marker_is_refused() {
        let mut un = Unpadder::new();
        let mut out = Vec::new();
        un.update(&[1, 2, 3, 0, 0], &mut out);
        assert_eq!(un.finish(), Err(CryptoError::Stream));
    }

    fn metadata() -> NodeMetadata {
        NodeMetadata {
            name: "Blood test.pdf".into(),
            record_type: RecordType::LabResult,
            description: String::new(),
            record_date: Some("2026-02-28".into()),
            created_at: 1,
            modified_at: 2,
            mime: Some("application/pdf".into()),
            size: Some(1234),
            vital: None,
        }
    }

    #[test]
    fn metadata_round_trips_padded_and_bound_to_its_node() {
        let key = Key256::from_bytes([3; 32]);
        let sealed = seal_metadata(&key, &[1; 16], &metadata()).unwrap();
        assert_eq!((sealed.len() - aead::SEAL_OVERHEAD) % METADATA_BLOCK, 0);
        assert_eq!(open_metadata(&key, &[1; 16], &sealed).unwrap(), metadata());
        assert_eq!(
            open_metadata(&key, &[2; 16], &sealed),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn keys_are_bound_to_their_place() {
        let parent = Key256::from_bytes([1; 32]);
        let child = Key256::from_bytes([2; 32]);
        let wrapped = wrap_child_key(&parent, &[5; 16], &[6; 16], &child).unwrap();
        assert_eq!(
            unwrap_child_key(&parent, &[5; 16], &[6; 16], &wrapped).unwrap(),
            child
        );
        assert!(unwrap_child_key(&parent, &[5; 16], &[7; 16], &wrapped).is_err());
        let content = wrap_content_key(&child, &[5; 16], 2, &parent).unwrap();
        assert_eq!(
            unwrap_content_key(&child, &[5; 16], 2, &content).unwrap(),
            parent
        );
        assert!(unwrap_content_key(&child, &[5; 16], 3, &content).is_err());
    }

    #[test]
    fn validation_messages() {
        let mut m = metadata();
        assert!(m.validate().is_ok());
        m.name = "  ".into();
        assert_eq!(m.validate(), Err("Enter a name.".into()));
        m.name = "x".repeat(256);
        assert!(m.validate().unwrap_err().contains("too long"));
        m.name = "ok".into();
        m.record_date = Some("2026-02-30".into());
        assert!(m.validate().is_err());
        let reading = |kind, value, second| VitalReading {
            kind,
            taken_at: 0,
            value,
            second,
        };
        assert!(reading(VitalKind::Temperature, 37.2, None)
            .validate()
            .is_ok());
        assert!(reading(VitalKind::Temperature, 73.0, None)
            .validate()
            .is_err());
        assert!(reading(VitalKind::Pulse, f64::NAN, None)
            .validate()
            .is_err());
        assert!(reading(VitalKind::BloodPressure, 120.0, Some(80.0))
            .validate()
            .is_ok());
        assert!(reading(VitalKind::BloodPressure, 80.0, Some(120.0))
            .validate()
            .is_err());
        assert!(reading(VitalKind::BloodPressure, 120.0, None)
            .validate()
            .is_err());
    }
}
