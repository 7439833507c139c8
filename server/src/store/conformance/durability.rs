//! Durability: what was acknowledged is there after a reopen.

use std::future::Future;
use std::path::Path;

use super::{dump, value, Dump};
use crate::store::{keys::Key, Batch, Space, Store};

/// Everything acknowledged before the store is dropped is there after reopening
/// the same directory, writes work after reopening, and twice over.
pub async fn reopen_keeps_acknowledged_data<S: Store, O: Future<Output = S>>(
    open: &impl Fn(&Path) -> O,
) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut model = Dump::new();
    {
        let store = open(dir.path()).await;
        for n in 0..60u64 {
            let space = Space::ALL[n as usize % Space::ALL.len()];
            let key = Key::new().u64(n).finish();
            let v = value("single", n, 100 + (n as usize * 37) % 3000);
            store.put(space, key.clone(), v.clone()).await.unwrap();
            model.insert((space, key), v);
        }
        for n in 0..10u64 {
            let mut batch = Batch::new();
            for space in [Space::Records, Space::Grants, Space::Audit] {
                let key = Key::new().u8(0xb0).u64(n).finish();
                let v = value(space.name(), n, 500);
                batch.put(space, key.clone(), v.clone());
                model.insert((space, key), v);
            }
            let gone = Key::new().u64(n).finish();
            let gone_space = Space::ALL[n as usize % Space::ALL.len()];
            batch.delete(gone_space, gone.clone());
            model.remove(&(gone_space, gone));
            store.apply(batch).await.unwrap();
        }
        let big = value("big", 9, 1 << 20);
        store
            .put(Space::Blobs, b"big".to_vec(), big.clone())
            .await
            .unwrap();
        model.insert((Space::Blobs, b"big".to_vec()), big);
        assert_eq!(dump(&store).await, model);
    }
    {
        let store = open(dir.path()).await;
        assert_eq!(
            dump(&store).await,
            model,
            "first reopen lost or changed data"
        );
        store
            .put(Space::Meta, b"after".to_vec(), b"reopen".to_vec())
            .await
            .unwrap();
        model.insert((Space::Meta, b"after".to_vec()), b"reopen".to_vec());
        store.delete(Space::Blobs, b"big".to_vec()).await.unwrap();
        model.remove(&(Space::Blobs, b"big".to_vec()));
    }
    let store = open(dir.path()).await;
    assert_eq!(
        dump(&store).await,
        model,
        "second reopen lost or changed data"
    );
}
