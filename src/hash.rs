//! FNV-1a, 64 bit: the crate's one stable, dependency-free hash for fingerprints, cache keys and labels (not
//! for security; the standard library's hasher is not guaranteed stable across releases).
//!
//! Algorithm (Fowler, Noll & Vo; IETF draft `draft-eastlake-fnv`, §2): start from the 64-bit offset basis
//! `0xcbf29ce484222325`; for every input byte, XOR it into the state and multiply by the 64-bit FNV prime
//! `0x100000001b3` (wrapping). Hashes are `u64`; callers print them as hex digits. [`Fnv1a::with_offset`]
//! starts from another basis (the checkpoint keys of [`crate::zoo::checkpoint`] run a second pass from a
//! different basis for 128 bits).

/// The 64-bit FNV offset basis.
pub const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// Offset basis of the second pass of this crate's 128-bit keys and checksums (two FNV-1a-64 passes): the
/// standard basis with its 32-bit halves swapped.
pub const SECOND_OFFSET_BASIS: u64 = 0x8422_2325_cbf2_9ce4;
/// The 64-bit FNV prime.
pub const PRIME: u64 = 0x0100_0000_01b3;

/// A streaming FNV-1a-64 hasher: feed bytes with [`Fnv1a::write`], read the hash with [`Fnv1a::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a::new()
    }
}

impl Fnv1a {
    /// A hasher at the standard offset basis.
    pub const fn new() -> Fnv1a {
        Fnv1a(OFFSET_BASIS)
    }

    /// A hasher starting from `offset` instead of the standard basis.
    pub const fn with_offset(offset: u64) -> Fnv1a {
        Fnv1a(offset)
    }

    /// Hash `bytes`, in order.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// Hash the 8 little-endian bytes of `word`.
    pub fn write_u64_le(&mut self, word: u64) {
        self.write(&word.to_le_bytes());
    }

    /// The hash of everything written so far.
    pub const fn finish(self) -> u64 {
        self.0
    }
}

/// FNV-1a-64 of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::new();
    h.write(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Test vectors of the FNV reference (draft-eastlake-fnv, appendix C).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn streaming_matches_one_shot() {
        let mut h = Fnv1a::default();
        h.write(b"foo");
        h.write(b"");
        h.write(b"bar");
        assert_eq!(h.finish(), fnv1a64(b"foobar"));
        let mut w = Fnv1a::new();
        w.write_u64_le(0x0102_0304_0506_0708);
        assert_eq!(w.finish(), fnv1a64(&[8, 7, 6, 5, 4, 3, 2, 1]));
        let mut o = Fnv1a::with_offset(0);
        o.write(b"");
        assert_eq!(o.finish(), 0);
    }
}
