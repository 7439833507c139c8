//! Where a verified, decrypted file is gathered before it is offered to the
//! person. A small file stays in memory as `Blob` parts. A large one goes, chunk
//! by chunk, into a scratch file in the origin's private file system, so the
//! tab's memory stays a few chunks and Chromium does not cancel the download (it
//! cancels one of a `Blob` held in memory beyond a few hundred MB).
//!
//! A scratch file is removed when its download fails, a few minutes after it was
//! handed over (the browser has opened it by then), when the person signs out,
//! and when the app starts, so no decrypted file stays in browser storage. Where
//! the private file system is missing (an insecure origin, an old browser), every
//! file stays in memory as before.

use std::{cell::Cell, collections::VecDeque};

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions,
    FileSystemGetFileOptions, FileSystemWritableFileStream,
};

/// The folder of scratch files in the origin's private file system.
const FOLDER: &str = "medvault-downloads";
/// Files from this size on are gathered on disk.
pub const DISK_FROM: u64 = 64 << 20;
/// How long a handed-over scratch file is kept at least, and for how many bytes
/// per second of its size longer (the browser opens it within seconds).
const KEEP_MS: u32 = 120_000;
const KEEP_BYTES_PER_MS: u64 = 5_000;
/// Writes to the scratch file allowed under way at once.
const WRITES_IN_FLIGHT: usize = 4;

thread_local! {
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

/// A file being gathered; see the module's description.
pub struct Spool {
    place: Place,
    written: u64,
}

enum Place {
    Memory(Array),
    Disk(Disk),
}

struct Disk {
    folder: FileSystemDirectoryHandle,
    name: String,
    handle: FileSystemFileHandle,
    writable: FileSystemWritableFileStream,
    /// Writes under way, at most [`WRITES_IN_FLIGHT`]: chunks are written
    /// while the next ones are checked, and memory stays bounded.
    pending: VecDeque<JsFuture>,
}

impl Spool {
    /// A spool for a file of about `size` bytes: on disk from [`DISK_FROM`]
    /// where the browser allows it, in memory otherwise.
    pub async fn new(size: u64) -> Spool {
        let place = if size >= DISK_FROM {
            match Disk::open().await {
                Ok(disk) => Place::Disk(disk),
                Err(_) => Place::Memory(Array::new()),
            }
        } else {
            Place::Memory(Array::new())
        };
        Spool { place, written: 0 }
    }

    /// Whether this spool writes to the private file system.
    pub fn on_disk(&self) -> bool {
        matches!(self.place, Place::Disk(_))
    }

    /// Appends checked file bytes. The caller must not change `part` afterwards.
    pub async fn push(&mut self, part: &Uint8Array) -> Result<(), JsValue> {
        self.written += u64::from(part.length());
        match &mut self.place {
            Place::Memory(parts) => {
                parts.push(part);
                Ok(())
            }
            Place::Disk(disk) => {
                if disk.pending.len() >= WRITES_IN_FLIGHT {
                    if let Some(write) = disk.pending.pop_front() {
                        write.await?;
                    }
                }
                let write = disk.writable.write_with_js_u8_array(part)?;
                disk.pending.push_back(JsFuture::from(write));
                Ok(())
            }
        }
    }

    /// Everything pushed, as one `Blob` of type `mime`. A scratch file is
    /// scheduled for removal once handed over.
    pub async fn finish(self, mime: &str) -> Result<web_sys::Blob, JsValue> {
        match self.place {
            Place::Memory(parts) => {
                let options = web_sys::BlobPropertyBag::new();
                options.set_type(mime);
                web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
            }
            Place::Disk(mut disk) => {
                let finished = disk.finish(self.written, mime).await;
                match finished {
                    Ok(blob) => {
                        remove_later(disk.folder, disk.name, self.written);
                        Ok(blob)
                    }
                    Err(e) => {
                        disk.remove().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// Throws away what was pushed (a check failed, or the person cancelled).
    pub async fn discard(self) {
        match self.place {
            Place::Memory(parts) => parts.set_length(0),
            Place::Disk(mut disk) => {
                for write in disk.pending.drain(..) {
                    let _ = write.await;
                }
                let _ = JsFuture::from(disk.writable.abort()).await;
                disk.remove().await;
            }
        }
    }
}

impl Disk {
    async fn open() -> Result<Disk, JsValue> {
        let root = private_root().await?;
        let options = FileSystemGetDirectoryOptions::new();
        options.set_create(true);
        let folder: FileSystemDirectoryHandle =
            JsFuture::from(root.get_directory_handle_with_options(FOLDER, &options))
                .await?
                .dyn_into()?;
        let number = NEXT.with(|n| {
            let next = n.get();
            n.set(next + 1);
            next
        });
        let name = format!("{}-{number}", js_sys::Date::now() as u64);
        let options = FileSystemGetFileOptions::new();
        options.set_create(true);
        let handle: FileSystemFileHandle =
            JsFuture::from(folder.get_file_handle_with_options(&name, &options))
                .await?
                .dyn_into()?;
        let writable = match JsFuture::from(handle.create_writable()).await {
            Ok(w) => w.dyn_into::<FileSystemWritableFileStream>()?,
            Err(e) => {
                let _ = JsFuture::from(folder.remove_entry(&name)).await;
                return Err(e);
            }
        };
        Ok(Disk {
            folder,
            name,
            handle,
            writable,
            pending: VecDeque::new(),
        })
    }

    async fn finish(&mut self, written: u64, mime: &str) -> Result<web_sys::Blob, JsValue> {
        for write in self.pending.drain(..) {
            write.await?;
        }
        JsFuture::from(self.writable.close()).await?;
        let file: web_sys::Blob = JsFuture::from(self.handle.get_file()).await?.dyn_into()?;
        if file.size() != written as f64 {
            return Err(JsValue::from_str("the scratch file is short"));
        }
        // A slice keeps the file on disk and carries the MIME type a preview needs.
        file.slice_with_f64_and_f64_and_content_type(0.0, written as f64, mime)
    }

    async fn remove(&self) {
        let _ = JsFuture::from(self.folder.remove_entry(&self.name)).await;
    }
}

/// The origin's private file system, if this browser and origin have one.
async fn private_root() -> Result<FileSystemDirectoryHandle, JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let navigator = window.navigator();
    let storage = Reflect::get(&navigator, &JsValue::from_str("storage"))?;
    if storage.is_undefined()
        || Reflect::get(&storage, &JsValue::from_str("getDirectory"))?.is_undefined()
    {
        return Err(JsValue::NULL);
    }
    let storage: web_sys::StorageManager = storage.unchecked_into();
    JsFuture::from(storage.get_directory()).await?.dyn_into()
}

fn remove_later(folder: FileSystemDirectoryHandle, name: String, size: u64) {
    let extra = u32::try_from(size / KEEP_BYTES_PER_MS).unwrap_or(u32::MAX);
    let delay = KEEP_MS.saturating_add(extra);
    leptos::prelude::set_timeout(
        move || {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(folder.remove_entry(&name)).await;
            });
        },
        std::time::Duration::from_millis(u64::from(delay)),
    );
}

/// Removes every scratch file (at start and at sign-out), one by one: the
/// browser refuses to remove one still being written by another tab, and a
/// handed-over one the browser still reads stays open for it until it is done.
pub fn sweep() {
    wasm_bindgen_futures::spawn_local(async {
        let Ok(root) = private_root().await else {
            return;
        };
        let Ok(folder) = JsFuture::from(root.get_directory_handle(FOLDER)).await else {
            return;
        };
        let folder: FileSystemDirectoryHandle = folder.unchecked_into();
        let names = folder.keys();
        let mut found = Vec::new();
        while let Ok(step) = names.next().map(JsFuture::from) {
            let Ok(step) = step.await else { break };
            let done = Reflect::get(&step, &JsValue::from_str("done"))
                .map(|d| d.is_truthy())
                .unwrap_or(true);
            if done {
                break;
            }
            if let Some(name) = Reflect::get(&step, &JsValue::from_str("value"))
                .ok()
                .and_then(|v| v.as_string())
            {
                found.push(name);
            }
        }
        for name in found {
            let _ = JsFuture::from(folder.remove_entry(&name)).await;
        }
    });
}
