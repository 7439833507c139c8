//! The server's implementation of the API: one file per area. Each method
//! authorizes, calls the store and (from accounts on) appends to the audit log.

pub mod system;

use std::sync::Arc;

use crate::store::Store;

/// Implements every area's backend trait from `shared::api`.
pub struct ServerBackend {
    store: Arc<dyn Store>,
}

impl ServerBackend {
    /// A backend over the given store.
    pub fn new(store: Arc<dyn Store>) -> ServerBackend {
        ServerBackend { store }
    }
}
