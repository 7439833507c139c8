//! Health: whether the server runs and its store answers.

use shared::api::{system::HealthReport, system::SystemBackend, ApiError};

use super::ServerBackend;

#[async_trait::async_trait]
impl SystemBackend for ServerBackend {
    async fn health(&self) -> Result<HealthReport, ApiError> {
        let store_open = self.store.check().await.is_ok();
        Ok(HealthReport {
            status: if store_open { "ok" } else { "degraded" }.to_owned(),
            version: shared::VERSION.to_owned(),
            store_open,
        })
    }
}
