//! "Export as FHIR" and "Import a FHIR bundle", in this browser: the record's
//! summary, readings and files as a FHIR R4 bundle (`shared::fhir`), and a
//! bundle's items written into the record as encrypted entries and files.
//! Nothing of either reaches the server in clear.

use js_sys::Uint8Array;
use shared::{
    api::records::NodeKind,
    fhir::{bundle_json, Document, DocumentContent, Imported, Summary},
    model::{Id, KeyEntry},
    records::{hex_id, profile::Profile, OpenNode, OpenTree, RecordType},
};
use wasm_bindgen::JsValue;

use super::{
    authors::Authors,
    export::{fetch_file, js_failed, BlobSink, ExportError, ExportProgress, ZipBuilder},
    health::{items_of, new_entry, save_entry, summary_folder},
    nodes::make_folder,
    transfer::Cancel,
    upload::{upload, UploadJob, UploadTarget},
    vitals::save_reading,
    writer::Writer,
};
use crate::{
    platform::{blob::blob_bytes, clock::LocalTime},
    session::Session,
};

/// The record's files outside the trash that have content.
fn files(tree: &OpenTree) -> Vec<&OpenNode> {
    let mut out: Vec<&OpenNode> = tree
        .search(&Default::default())
        .into_iter()
        .filter(|n| n.view.kind == NodeKind::File && n.view.current.is_some())
        .collect();
    out.sort_by_key(|n| n.metadata.created_at);
    out
}

/// What an export is of: the record as opened and checked, its owner's
/// directory entry, the profile for the `Patient`, the time, and whether the
/// files go inside the bundle (`inline`) or beside it in a zip.
pub struct ExportJob<'a> {
    /// The record.
    pub tree: &'a OpenTree,
    /// The owner's checked entry (authors of files are checked against it).
    pub owner: &'a KeyEntry,
    /// The patient's checked profile, if any.
    pub profile: Option<Profile>,
    /// Now, Unix seconds.
    pub now: i64,
    /// Files inside the JSON (`true`) or in a zip beside it.
    pub inline: bool,
}

/// Builds the FHIR export of `job`: a `.json` bundle with every file inside,
/// or a `.zip` of the bundle and the files beside it. Returns the blob and its
/// file name; reports progress per file byte.
pub async fn export_fhir(
    job: ExportJob<'_>,
    session: Session,
    on_progress: &mut dyn FnMut(ExportProgress),
    cancel: &Cancel,
) -> Result<(web_sys::Blob, String), ExportError> {
    let ExportJob {
        tree,
        owner,
        profile,
        now,
        inline,
    } = job;
    let files = files(tree);
    let mut progress = ExportProgress {
        total_bytes: files.iter().filter_map(|n| n.metadata.size).sum(),
        files_total: files.len(),
        ..Default::default()
    };
    on_progress(progress);
    let day = LocalTime::of(now).date_iso();
    let top = format!("medvault-fhir-{day}");
    let mut zip = (!inline).then(|| ZipBuilder::new(BlobSink::new()));
    let mut top_path = String::new();
    if let Some(z) = zip.as_mut() {
        top_path = z.add_dir("", &top, now)?;
    }
    let mut authors = Authors::default();
    let mut documents = Vec::new();
    for node in files {
        if cancel.is_cancelled() {
            return Err(ExportError::Cancelled);
        }
        let Some(version) = &node.view.current else {
            continue;
        };
        let covers = |f: &Id, i: &Id| tree.covers(f, i);
        let author_key = authors
            .trusted(session, version, owner, covers)
            .await
            .map_err(ExportError::Failed)?
            .1;
        let mut report = |bytes: u64| {
            progress.done_bytes += bytes;
            on_progress(progress);
        };
        let blob = fetch_file(node, &author_key, &mut report, cancel).await?;
        let content = match zip.as_mut() {
            Some(z) => {
                let files_dir = format!("{top_path}files/");
                let path = super::export::add_blob(
                    z,
                    &files_dir,
                    &node.metadata.name,
                    node.metadata.modified_at,
                    &blob,
                )
                .await?;
                DocumentContent::InZip(path.strip_prefix(&top_path).unwrap_or(&path).to_owned())
            }
            None => {
                let bytes = blob_bytes(&blob)
                    .await
                    .ok_or_else(|| js_failed(JsValue::NULL))?;
                DocumentContent::Inline(bytes)
            }
        };
        documents.push(Document {
            id: hex_id(node.id()),
            title: node.metadata.name.clone(),
            mime: node
                .metadata
                .mime
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: node.metadata.size.unwrap_or_default(),
            description: node.metadata.description.clone(),
            created_at: node.metadata.created_at,
            content,
        });
        progress.files_done += 1;
        on_progress(progress);
    }
    let summary = Summary {
        patient_id: hex_id(&tree.owner_id),
        name: profile.as_ref().map(|p| p.display_name.clone()),
        birth_date: profile.and_then(|p| p.date_of_birth),
        items: items_of(tree)
            .into_iter()
            .map(|i| i.current.entry)
            .filter(|e| !e.removed)
            .collect(),
        readings: tree
            .vitals()
            .into_iter()
            .map(|(n, r)| (hex_id(n.id()), r.clone()))
            .collect(),
        documents,
    };
    let bundle_id = shared::crypto::rng::id()
        .map(|id| hex_id(&id))
        .map_err(|_| ExportError::Failed("This browser has no source of randomness.".into()))?;
    let json = bundle_json(&summary, &bundle_id, now);
    match zip {
        Some(mut z) => {
            z.add_bytes(&top_path, "bundle.json", now, json.as_bytes())?;
            let blob = z
                .finish()?
                .into_blob("application/zip")
                .map_err(js_failed)?;
            Ok((blob, format!("{top}.zip")))
        }
        None => {
            let parts = js_sys::Array::of1(&JsValue::from_str(&json));
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/fhir+json");
            let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
                .map_err(js_failed)?;
            Ok((blob, format!("{top}.json")))
        }
    }
}

/// The preview's counts of what the bundle holds ("2 allergies"), kinds it
/// has none of left out.
pub fn counts(found: &Imported) -> Vec<String> {
    use shared::records::HealthSection;
    let mut out = Vec::new();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    for s in HealthSection::ALL {
        let n = found.facts.iter().filter(|f| f.section() == s).count();
        let (one, many) = match s {
            HealthSection::Allergies => ("allergy", "allergies"),
            HealthSection::Medications => ("medication", "medications"),
            HealthSection::Conditions => ("condition", "conditions"),
            HealthSection::Immunizations => ("immunization", "immunizations"),
        };
        if n > 0 {
            out.push(plural(n, one, many));
        }
    }
    if !found.readings.is_empty() {
        out.push(plural(
            found.readings.len(),
            "vital-sign reading",
            "vital-sign readings",
        ));
    }
    if !found.documents.is_empty() {
        out.push(plural(found.documents.len(), "document", "documents"));
    }
    out
}

/// Writes what the person confirmed into the record: summary items, readings
/// and files (into a new folder "Imported YYYY-MM-DD"), each encrypted and
/// signed here. `step` is told "3 of 12" as items are written.
pub async fn import_into(
    session: Session,
    writer: &Writer,
    tree: &OpenTree,
    found: &Imported,
    now: i64,
    step: &dyn Fn(usize, usize),
) -> Result<String, String> {
    let total = found.facts.len() + found.readings.len() + found.documents.len();
    let mut done = 0;
    if !found.facts.is_empty() {
        let folder = summary_folder(writer, tree).await?;
        for fact in &found.facts {
            let entry = new_entry(None, fact.clone(), false, now)?;
            save_entry(writer, &folder, &entry, now).await?;
            done += 1;
            step(done, total);
        }
    }
    for reading in &found.readings {
        save_reading(writer, tree, reading).await?;
        done += 1;
        step(done, total);
    }
    if !found.documents.is_empty() {
        let folder = imported_folder(writer, tree, now).await?;
        for doc in &found.documents {
            let file = bytes_file(&doc.title, &doc.bytes, &doc.mime)?;
            let details = shared::records::ItemDetails {
                record_type: RecordType::Other,
                description: doc.description.clone(),
                record_date: doc.date.clone(),
            };
            let job = UploadJob {
                target: UploadTarget::NewFile {
                    parent: folder.clone(),
                    details,
                },
                writer: writer.clone(),
                usage: tree.usage,
            };
            upload(&file, job, |_| {}, &Cancel::new())
                .await
                .map_err(|e| {
                    format!(
                        "“{}” could not be stored: {}",
                        doc.title,
                        e.message(&session)
                    )
                })?;
            done += 1;
            step(done, total);
        }
    }
    Ok(format!(
        "Imported {done} item{} into your record, encrypted in this browser.",
        if done == 1 { "" } else { "s" }
    ))
}

async fn imported_folder(writer: &Writer, tree: &OpenTree, now: i64) -> Result<OpenNode, String> {
    let root = tree
        .root()
        .ok_or_else(|| "Your record could not be opened. Reload the page.".to_owned())?;
    let name = format!("Imported {}", LocalTime::of(now).date_iso());
    make_folder(writer, root, RecordType::Other, &name).await
}

fn bytes_file(name: &str, bytes: &[u8], mime: &str) -> Result<web_sys::File, String> {
    let array = Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::FilePropertyBag::new();
    options.set_type(mime);
    web_sys::File::new_with_u8_array_sequence_and_options(&parts, name, &options)
        .map_err(|_| "This browser could not prepare an imported file. Try again.".to_owned())
}
