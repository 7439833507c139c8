//! The one source of randomness.
//!
//! Backed by the operating system (`getrandom`; `crypto.getRandomValues` in the
//! browser). The crates we build on speak two generations of `rand_core` (0.6 for
//! the dalek crates and opaque-ke, 0.9 for hpke); [`Rng`] implements both, so no
//! other module ever chooses a generator.

use super::CryptoError;

/// The operating system's CSPRNG, usable wherever either `rand_core` is expected.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rng;

/// Fills `dest` with random bytes, or says the platform could not.
pub fn fill(dest: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::getrandom(dest).map_err(|_| CryptoError::Unavailable)
}

/// `N` fresh random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// A fresh random 16-byte identifier.
pub fn id() -> Result<super::Id, CryptoError> {
    bytes()
}

// The trait methods below cannot return an error. A generator that cannot produce
// randomness must stop the program rather than hand out predictable keys; this is
// also what `rand_core::OsRng` does. `getrandom` only fails on a broken platform.
#[allow(clippy::panic)]
fn fill_or_abort(dest: &mut [u8]) {
    if fill(dest).is_err() {
        panic!("the platform's random number generator failed");
    }
}

impl rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        fill_or_abort(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        fill_or_abort(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        fill_or_abort(dest)
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        getrandom::getrandom(dest).map_err(rand_core::Error::from)
    }
}

impl rand_core::CryptoRng for Rng {}

impl rand_core_09::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        rand_core::RngCore::next_u32(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::RngCore::next_u64(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        fill_or_abort(dest)
    }
}

impl rand_core_09::CryptoRng for Rng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ() {
        let a: [u8; 32] = bytes().unwrap();
        let b: [u8; 32] = bytes().unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }

    #[test]
    fn both_generations_produce_bytes() {
        let mut rng = Rng;
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        rand_core::RngCore::fill_bytes(&mut rng, &mut a);
        rand_core_09::RngCore::fill_bytes(&mut rng, &mut b);
        assert_ne!(a, b);
        fn needs_old<R: rand_core::RngCore + rand_core::CryptoRng>(_: &mut R) {}
        fn needs_new<R: rand_core_09::RngCore + rand_core_09::CryptoRng>(_: &mut R) {}
        needs_old(&mut rng);
        needs_new(&mut rng);
    }
}
