//! TEMPORARY placeholder until the real store lands (same file, replaced).
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict")]
    Conflict,
    #[error("backend: {0}")]
    Backend(String),
}

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    async fn check(&self) -> Result<(), StoreError>;
    async fn flush(&self) -> Result<(), StoreError>;
}

pub struct SledStore(sled::Db);
impl SledStore {
    pub fn open(p: &Path) -> Result<SledStore, StoreError> {
        sled::open(p)
            .map(SledStore)
            .map_err(|e| StoreError::Backend(e.to_string()))
    }
}
#[async_trait::async_trait]
impl Store for SledStore {
    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn flush(&self) -> Result<(), StoreError> {
        self.0
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError::Backend(e.to_string()))
    }
}
