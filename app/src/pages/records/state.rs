//! What the parts of the records and trash pages share: the record, the
//! page's messages, the dialog that is open, the download running and the
//! uploads.

use std::{cell::RefCell, rc::Rc};

use futures::{future::LocalBoxFuture, FutureExt};
use leptos::prelude::*;
use shared::{
    api::records::VersionView,
    model::Id,
    records::{ItemDetails, OpenNode, OpenTree, RecordType},
};

use crate::{
    components::{
        action::{use_action, Outcome, UseAction},
        details_fields::DetailsInput,
        file_browser::{
            file_row::RowBusy,
            preview::Preview,
            upload::{QueueHooks, UploadQueue},
        },
    },
    session::{use_session, Session, Unlocked},
    tasks::{
        download::{download, verified_job, DownloadJob},
        progress::Progress,
        record::{use_record_store, RecordStore},
        transfer::{Cancel, TransferError},
        upload::UploadJob,
        writer::Writer,
    },
};

/// Which dialog is open.
#[derive(Clone)]
pub enum Dialog {
    NewFolder,
    NewNote,
    Rename(Id),
    Details(Id),
    Move(Id),
    Versions(Id),
    EditNote(Id, String),
    Preview(Preview),
    EmptyTrash,
}

/// The work of one row's button, run once: its button id and its future.
#[derive(Clone)]
pub struct RowJob {
    key: String,
    work: Rc<RefCell<Option<LocalBoxFuture<'static, Outcome>>>>,
}

/// The record, the page's messages and dialogs, shared by the pieces of a page.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub session: Session,
    /// The session's record: opened once, reloaded after each change here.
    store: RecordStore,
    pub unlocked: StoredValue<Unlocked, LocalStorage>,
    pub tree: RwSignal<Option<OpenTree>>,
    pub load_error: RwSignal<Option<String>>,
    /// The buttons of the rows: one at a time; its error and status are the
    /// page's alert and status line.
    pub row: UseAction<RowJob>,
    pub dialog: RwSignal<Option<Dialog>>,
    pub return_to: RwSignal<Option<String>>,
    /// The download running: (node, progress).
    pub download: RwSignal<Option<(Id, Progress)>>,
    pub uploads: UploadQueue,
    /// Spoken when an upload or download finishes.
    pub announce: RwSignal<String>,
    /// The details the files added next get: the page's, so that a redraw
    /// of the folder after an upload keeps what the person set.
    pub upload_details: DetailsInput,
}

impl Ctx {
    /// The state of a page, which starts showing the session's record.
    pub fn new(unlocked: Unlocked) -> Self {
        let session = use_session();
        let store = use_record_store();
        let tree = RwSignal::new(None::<OpenTree>);
        let unlocked = StoredValue::new_local(unlocked);
        let load_error = RwSignal::new(None);
        let announce = RwSignal::new(String::new());
        let writer = unlocked.with_value(|u| Writer::owner(session, u, store));
        let uploads = UploadQueue::new(QueueHooks {
            session,
            writer,
            usage: Rc::new(move || tree.with_untracked(|t| t.as_ref().map(|t| t.usage))),
            reload: Rc::new(move || {
                load(session, store, unlocked, tree, load_error, true).boxed_local()
            }),
            announce,
        });
        let ctx = Ctx {
            session,
            store,
            unlocked,
            tree,
            load_error,
            row: use_action(|job: RowJob| {
                let work = job.work.borrow_mut().take();
                async move {
                    match work {
                        Some(work) => work.await,
                        None => Ok(None),
                    }
                }
            }),
            dialog: RwSignal::new(None),
            return_to: RwSignal::new(None),
            download: RwSignal::new(None),
            uploads,
            announce,
            upload_details: DetailsInput::new(&ItemDetails::of_type(RecordType::Other)),
        };
        // From memory, unless the record changed meanwhile (a doctor added to
        // it): RecordStore asks the server's change counter.
        leptos::task::spawn_local(async move {
            load(
                ctx.session,
                ctx.store,
                ctx.unlocked,
                ctx.tree,
                ctx.load_error,
                false,
            )
            .await
        });
        ctx
    }

    /// Fetches and decrypts the record again (after every change).
    pub async fn reload(self) {
        load(
            self.session,
            self.store,
            self.unlocked,
            self.tree,
            self.load_error,
            true,
        )
        .await
    }

    /// The page's alert.
    pub fn error(&self) -> RwSignal<Option<String>> {
        self.row.error
    }

    /// The page's status line.
    pub fn status(&self) -> RwSignal<Option<String>> {
        self.row.status
    }

    pub fn node(&self, id: &Id) -> Option<OpenNode> {
        self.tree
            .with_untracked(|t| t.as_ref().and_then(|t| t.node(id).cloned()))
    }

    pub fn open(&self, dialog: Dialog, opener: String) {
        self.error().set(None);
        self.return_to.set(Some(opener));
        self.dialog.set(Some(dialog));
    }

    pub fn close(&self) {
        if let Some(Dialog::Preview(preview)) = self.dialog.get_untracked() {
            preview.close();
        }
        self.dialog.set(None);
    }

    /// Runs one row's work with its busy state; its error goes to the page's
    /// alert. Ignored while another runs.
    pub fn run<F>(&self, key: String, work: F)
    where
        F: std::future::Future<Output = Outcome> + 'static,
    {
        self.row.run(RowJob {
            key,
            work: Rc::new(RefCell::new(Some(work.boxed_local()))),
        });
    }

    /// Which row's work runs, for the rows' buttons.
    pub fn busy(&self) -> RowBusy {
        let row = self.row;
        RowBusy {
            is: Callback::new(move |key: String| row.busy_for(|job| job.key == key)),
            any: row.busy_signal(),
        }
    }

    pub fn transfer_error(&self, error: &TransferError) -> String {
        error.message(&self.session)
    }

    /// An upload of `target` by the patient, if the record is open.
    pub fn upload_job(
        &self,
        target: crate::tasks::upload::UploadTarget,
    ) -> Result<UploadJob, TransferError> {
        let usage = self
            .tree
            .with_untracked(|t| t.as_ref().map(|t| t.usage))
            .ok_or(TransferError::Unreachable)?;
        Ok(UploadJob {
            target,
            writer: self.writer(),
            usage,
        })
    }

    /// The patient writing in their own record (changes go through the store).
    pub fn writer(&self) -> Writer {
        self.unlocked
            .with_value(|u| Writer::owner(self.session, u, self.store))
    }

    /// Whether `inner` lies in `folder` in the tree shown.
    fn covers(&self) -> impl Fn(&Id, &Id) -> bool {
        let tree = self.tree;
        move |folder: &Id, inner: &Id| {
            tree.with_untracked(|t| t.as_ref().is_some_and(|t| t.covers(folder, inner)))
        }
    }

    /// The download job of a file's version (current unless `version` given),
    /// after checking that its author was allowed to write it.
    pub async fn download_job(
        &self,
        node: &OpenNode,
        version: Option<VersionView>,
    ) -> Result<DownloadJob, String> {
        let owner = self.unlocked.with_value(|u| u.key_entry.value.clone());
        verified_job(self.session, node, version, &owner, self.covers()).await
    }

    /// Restores an older version of `node`, verified first.
    pub async fn restore_version(self, node: &OpenNode, version: VersionView) -> Outcome {
        let owner = self.unlocked.with_value(|u| u.key_entry.value.clone());
        crate::tasks::nodes::restore_version_with_size(
            &self.writer(),
            node,
            version,
            &owner,
            self.covers(),
        )
        .await
        .map(Some)
    }

    /// Downloads and verifies a file, with the row's progress bar.
    pub async fn fetch_blob(self, node: &OpenNode) -> Result<web_sys::Blob, String> {
        let job = self.download_job(node, None).await?;
        let id = *node.id();
        let progress = self.download;
        let result = download(
            &job,
            move |p| {
                progress.try_set(Some((id, p)));
            },
            &Cancel::new(),
        )
        .await;
        self.download.try_set(None);
        result.map_err(|e| self.transfer_error(&e))
    }
}

/// Shows the session's record in `tree` (or why it could not be opened in
/// `load_error`): from the store, or fetched again first when `fresh`, after
/// which every page that shows the tree sees the new one.
async fn load(
    session: Session,
    store: RecordStore,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    tree: RwSignal<Option<OpenTree>>,
    load_error: RwSignal<Option<String>>,
    fresh: bool,
) {
    let Some(unlocked) = unlocked.try_get_value() else {
        return;
    };
    match store.get(session, &unlocked, fresh).await {
        Ok(opened) => {
            load_error.try_set(None);
            tree.try_set(Some(opened));
        }
        Err(message) => {
            load_error.try_set(Some(message));
        }
    }
}
