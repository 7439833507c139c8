//! Serde helpers: byte strings as unpadded URL-safe base64 in JSON.
//!
//! Public values (keys, signatures, hashes) travel in JSON API bodies. An array
//! of numbers would be four times larger and serde cannot derive arrays over 32
//! bytes, so fixed-size and variable byte fields use `#[serde(with = ...)]`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

/// Encodes bytes as unpadded URL-safe base64 (RFC 4648 §5).
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded URL-safe base64; `None` if it is not valid.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// `[u8; N]` as base64, rejecting any other length.
pub mod array {
    use super::*;

    /// Serialises a fixed-size byte array.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    /// Deserialises a fixed-size byte array of exactly `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = decode(&text).ok_or_else(|| D::Error::custom("invalid base64"))?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom(format!("expected {N} bytes")))
    }
}

/// `Vec<u8>` as base64.
pub mod vec {
    use super::*;

    /// Serialises a byte vector.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    /// Deserialises a byte vector.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        decode(&text).ok_or_else(|| D::Error::custom("invalid base64"))
    }
}

/// `Vec<[u8; N]>` (hash lists, id lists) as a JSON array of base64 strings.
pub mod array_list {
    use super::*;

    /// Serialises a list of fixed-size byte arrays.
    pub fn serialize<S: Serializer, const N: usize>(
        list: &[[u8; N]],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|h| encode(h)))
    }

    /// Deserialises a list of arrays of exactly `N` bytes each.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Vec<[u8; N]>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| {
                decode(t)
                    .and_then(|b| <[u8; N]>::try_from(b).ok())
                    .ok_or_else(|| D::Error::custom(format!("expected {N} bytes of base64")))
            })
            .collect()
    }
}

/// Lists of 32-byte hashes (manifests).
pub use array_list as hashes;
/// Lists of 16-byte ids.
pub use array_list as id_list;

/// `Option<[u8; N]>` as base64 or `null`, for optional ids.
pub mod option_array {
    use super::*;

    /// Serialises an optional fixed-size byte array.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &Option<[u8; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&encode(b)),
            None => s.serialize_none(),
        }
    }

    /// Deserialises an optional array of exactly `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let bytes = decode(&text).ok_or_else(|| D::Error::custom("invalid base64"))?;
        bytes
            .try_into()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected {N} bytes")))
    }
}
