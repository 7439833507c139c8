//! Group commit of independent batches: callers queue their batch, and one
//! writer step at a time hands everything queued to [`Store::apply_group`],
//! so concurrent writers share one round of file syncs and one flush (the
//! way the audit log's writer shares one batch). Each caller is answered
//! only once its own batch is durable, or with its own batch's error.

use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::{oneshot, Mutex};

use super::{Batch, Store, StoreError};

/// Queues batches and writes them in groups; cheap to clone.
#[derive(Clone)]
pub struct GroupWriter {
    inner: Arc<Inner>,
}

struct Job {
    batch: Batch,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

struct Inner {
    store: Arc<dyn Store>,
    queue: StdMutex<Vec<Job>>,
    /// Held by the one writer step that runs at a time.
    writer: Mutex<()>,
    max_group: usize,
}

impl GroupWriter {
    /// A writer over `store` that writes at most `max_group` batches at once.
    pub fn new(store: Arc<dyn Store>, max_group: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                queue: StdMutex::new(Vec::new()),
                writer: Mutex::new(()),
                max_group: max_group.max(1),
            }),
        }
    }

    /// Applies `batch` atomically and durably with whatever else is queued;
    /// a failed precondition gives [`StoreError::Conflict`] for this batch
    /// alone.
    pub async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .queue
            .lock()
            .map_err(|_| StoreError::Backend("the group writer's queue is poisoned".into()))?
            .push(Job { batch, reply });
        // The step runs on its own task: a caller that goes away (a dropped
        // request) never stops the write of the others queued with it.
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move { inner.write_step().await });
        answer
            .await
            .map_err(|_| StoreError::Backend("the group writer stopped".into()))?
    }
}

impl Inner {
    /// Takes the writer's lock and writes whatever is queued, group by group.
    async fn write_step(self: Arc<Self>) {
        let _writer = self.writer.lock().await;
        loop {
            let jobs: Vec<Job> = match self.queue.lock() {
                Ok(mut q) => {
                    let n = q.len().min(self.max_group);
                    q.drain(..n).collect()
                }
                Err(_) => return,
            };
            if jobs.is_empty() {
                return;
            }
            let (batches, replies): (Vec<Batch>, Vec<_>) =
                jobs.into_iter().map(|j| (j.batch, j.reply)).unzip();
            let n = batches.len();
            let mut results = self.store.apply_group(batches).await;
            results.resize_with(n, || {
                Err(StoreError::Backend(
                    "a batch of the group got no answer".into(),
                ))
            });
            for (result, reply) in results.into_iter().zip(replies) {
                let _ = reply.send(result);
            }
        }
    }
}

#[cfg(test)]
mod tests;
