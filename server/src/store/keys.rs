//! Key layout: how ids, times and names become key bytes.
//!
//! Backends order keys by raw bytes, so numbers are big-endian (byte order is
//! numeric order and a range of ids or times is a contiguous scan). A composite
//! key is a sequence of parts; a part is either fixed-width (integers, ids,
//! hashes) or a length-prefixed byte string, so that the key of one parent can
//! never be a byte prefix of another parent's key (`"ab"` vs `"abc"`) and a
//! prefix scan for one parent returns only its children.
//!
//! Variable-length parts sort by length first, then bytes: fine for exact
//! lookups and for grouping, not for alphabetical listings (sort those after
//! decrypting, which the server cannot do anyway).

use super::StoreError;

/// A composite key under construction; parts are appended in order and the
/// result sorts part by part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl Key {
    /// An empty key, to append parts to.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one byte, typically a tag that separates record kinds sharing a
    /// keyspace.
    pub fn u8(mut self, n: u8) -> Self {
        self.0.push(n);
        self
    }

    /// Appends a u32 in big-endian order.
    pub fn u32(mut self, n: u32) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a u64 (a time, a counter) in big-endian order.
    pub fn u64(mut self, n: u64) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a u128 (an id) in big-endian order.
    pub fn u128(mut self, n: u128) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a fixed-width part (a hash, a raw id); the width is in the type,
    /// so it cannot vary between keys of the same kind.
    pub fn fixed<const N: usize>(mut self, part: &[u8; N]) -> Self {
        self.0.extend_from_slice(part);
        self
    }

    /// Appends a variable-length part behind its length (u64, big-endian), so
    /// the part's end is unambiguous.
    pub fn bytes(mut self, part: &[u8]) -> Self {
        // usize -> u64 is lossless on every platform Rust supports.
        self.0.extend_from_slice(&(part.len() as u64).to_be_bytes());
        self.0.extend_from_slice(part);
        self
    }

    /// Appends a UTF-8 string as a length-prefixed part.
    pub fn str(self, part: &str) -> Self {
        self.bytes(part.as_bytes())
    }

    /// The key bytes, to hand to the store.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

impl From<Key> for Vec<u8> {
    fn from(key: Key) -> Self {
        key.0
    }
}

/// Reads a composite key back part by part, e.g. the grantee id out of a key
/// returned by a prefix scan. Every read checks the length and reports
/// [`StoreError::Corrupt`] rather than panicking.
#[derive(Debug, Clone)]
pub struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    /// Starts reading at the beginning of `key`.
    pub fn new(key: &'a [u8]) -> Self {
        Self { rest: key }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.rest.len() < n {
            return Err(StoreError::Corrupt("key is shorter than its layout".into()));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a part written by [`Key::u8`].
    pub fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// Reads a part written by [`Key::u32`].
    pub fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a part written by [`Key::u64`].
    pub fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a part written by [`Key::u128`].
    pub fn u128(&mut self) -> Result<u128, StoreError> {
        Ok(u128::from_be_bytes(self.array()?))
    }

    /// Reads a part written by [`Key::fixed`] with the same width.
    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        self.array()
    }

    /// Reads a part written by [`Key::bytes`].
    pub fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let len = u64::from_be_bytes(self.array()?);
        let len = usize::try_from(len)
            .map_err(|_| StoreError::Corrupt("key part length overflows".into()))?;
        self.take(len)
    }

    /// Reads a part written by [`Key::str`].
    pub fn str(&mut self) -> Result<&'a str, StoreError> {
        std::str::from_utf8(self.bytes()?)
            .map_err(|_| StoreError::Corrupt("key part is not UTF-8".into()))
    }

    /// Checks that the whole key was consumed, so a key of another kind that
    /// merely starts the same way is not mistaken for this one.
    pub fn finish(self) -> Result<(), StoreError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Corrupt("key is longer than its layout".into()))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const SAMPLES: [u64; 10] = [
        0,
        1,
        2,
        255,
        256,
        65_535,
        65_536,
        1 << 40,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn u64_byte_order_is_numeric_order() {
        for &a in &SAMPLES {
            for &b in &SAMPLES {
                let ka = Key::new().u64(a).finish();
                let kb = Key::new().u64(b).finish();
                assert_eq!(ka.cmp(&kb), a.cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn u128_byte_order_is_numeric_order() {
        let samples = [0u128, 1, 255, 256, 1 << 64, (1 << 64) + 1, u128::MAX];
        for &a in &samples {
            for &b in &samples {
                let ka = Key::new().u128(a).finish();
                let kb = Key::new().u128(b).finish();
                assert_eq!(ka.cmp(&kb), a.cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn fixed_width_composites_sort_like_tuples() {
        let mut tuples = Vec::new();
        for &a in &[0u128, 7, 1 << 70] {
            for &b in &SAMPLES {
                tuples.push((a, b));
            }
        }
        let mut by_key = tuples.clone();
        by_key.sort_by_key(|&(a, b)| Key::new().u128(a).u64(b).finish());
        tuples.sort();
        assert_eq!(by_key, tuples);
    }

    #[test]
    fn length_prefix_keeps_parents_apart() {
        let parent_ab = Key::new().str("ab").finish();
        let child_of_abc = Key::new().str("abc").u64(1).finish();
        assert!(!child_of_abc.starts_with(&parent_ab));
        let child_of_ab = Key::new().str("ab").u64(1).finish();
        assert!(child_of_ab.starts_with(&parent_ab));
        // An empty part is still a part.
        let empty = Key::new().bytes(b"").finish();
        assert_eq!(empty, 0u64.to_be_bytes());
    }

    #[test]
    fn reader_round_trips_every_part() {
        let key = Key::new()
            .u8(3)
            .u32(9)
            .u64(u64::MAX)
            .u128(42)
            .fixed(&[7u8; 32])
            .str("dr-who")
            .bytes(b"")
            .finish();
        let mut r = KeyReader::new(&key);
        assert_eq!(r.u8().unwrap(), 3);
        assert_eq!(r.u32().unwrap(), 9);
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert_eq!(r.u128().unwrap(), 42);
        assert_eq!(r.fixed::<32>().unwrap(), [7u8; 32]);
        assert_eq!(r.str().unwrap(), "dr-who");
        assert_eq!(r.bytes().unwrap(), b"");
        r.finish().unwrap();
    }

    #[test]
    fn fail_reader_on_short_long_or_garbled_keys() {
        let key = Key::new().u64(5).finish();
        assert!(matches!(
            KeyReader::new(&key[..7]).u64(),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            KeyReader::new(&key).u128(),
            Err(StoreError::Corrupt(_))
        ));
        let mut r = KeyReader::new(&key);
        r.u32().unwrap();
        assert!(matches!(r.finish(), Err(StoreError::Corrupt(_))));

        // A length prefix that claims more than is there, or more than fits.
        let lying = Key::new().u64(10).fixed(b"abc").finish();
        assert!(matches!(
            KeyReader::new(&lying).bytes(),
            Err(StoreError::Corrupt(_))
        ));
        let huge = Key::new().u64(u64::MAX).finish();
        assert!(matches!(
            KeyReader::new(&huge).bytes(),
            Err(StoreError::Corrupt(_))
        ));
        let not_utf8 = Key::new().bytes(&[0xff, 0xfe]).finish();
        assert!(matches!(
            KeyReader::new(&not_utf8).str(),
            Err(StoreError::Corrupt(_))
        ));
    }
}
