//! Value format on disk: one version byte, then the serde_json encoding.
//!
//! The version byte lets the format change later (another encoding, a changed
//! struct) without guessing what old bytes mean: a newer reader dispatches on it,
//! and an older reader refuses bytes it does not know instead of misreading
//! them. JSON because the stored structs are small (ids, wrapped keys, hashes)
//! and a human can read a dump when something goes wrong; bulk ciphertext is
//! stored raw and does not go through this codec.

use serde::{de::DeserializeOwned, Serialize};

use super::StoreError;

/// The format written today: `[1]` followed by serde_json bytes.
pub const VERSION: u8 = 1;

/// Encodes `value` as version byte plus JSON.
///
/// Fallible rather than panicking because serde_json can refuse a value (a map
/// with non-string keys, a `Serialize` impl that errors).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![VERSION];
    // Derived Serialize impls only fail with fixed messages such as "key must
    // be a string", so the message is safe to keep.
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(out)
}

/// Decodes bytes written by [`encode`], refusing an unknown version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    let (&version, body) = bytes
        .split_first()
        .ok_or_else(|| StoreError::Corrupt("empty value".into()))?;
    if version != VERSION {
        return Err(StoreError::Corrupt(format!(
            "unknown value version {version} (this build reads {VERSION})"
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        // serde_json's message can quote the stored data ("invalid type: string
        // \"...\""), so keep only where and what kind of failure it was.
        StoreError::Corrupt(format!(
            "{:?} error decoding value at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Grant {
        node: u128,
        doctor: String,
        write: bool,
        until: Option<u64>,
    }

    fn sample() -> Grant {
        Grant {
            node: u128::MAX,
            doctor: "dr-who".into(),
            write: true,
            until: None,
        }
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&sample()).unwrap();
        assert_eq!(bytes[0], VERSION);
        assert_eq!(decode::<Grant>(&bytes).unwrap(), sample());
    }

    #[test]
    fn layout_is_version_byte_then_json() {
        let bytes = encode(&[1u8, 2]).unwrap();
        assert_eq!(bytes, b"\x01[1,2]");
    }

    #[test]
    fn fail_unknown_versions() {
        let mut bytes = encode(&sample()).unwrap();
        for v in [0u8, 2, 255] {
            bytes[0] = v;
            match decode::<Grant>(&bytes) {
                Err(StoreError::Corrupt(msg)) => assert!(msg.contains("version")),
                other => panic!("version {v}: {other:?}"),
            }
        }
    }

    #[test]
    fn fail_empty_truncated_and_flipped() {
        assert!(matches!(decode::<Grant>(&[]), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            decode::<Grant>(&[VERSION]),
            Err(StoreError::Corrupt(_))
        ));
        let bytes = encode(&sample()).unwrap();
        assert!(matches!(
            decode::<Grant>(&bytes[..bytes.len() - 1]),
            Err(StoreError::Corrupt(_))
        ));
        for i in 1..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x80;
            // Either rejected or, if JSON still parses, never a panic.
            let _ = decode::<Grant>(&flipped);
        }
    }

    #[test]
    fn fail_wrong_shape_without_quoting_data() {
        let bytes = encode(&"a-secret-looking-string").unwrap();
        match decode::<Grant>(&bytes) {
            Err(StoreError::Corrupt(msg)) => assert!(!msg.contains("secret"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fail_unencodable_value_is_an_error() {
        let mut map = BTreeMap::new();
        map.insert(vec![1u8], 2u8);
        assert!(matches!(encode(&map), Err(StoreError::Encode(_))));
    }
}
