//! MurmurHash3 (x86, 32-bit), the hash behind Unleash's bucketing, in the two
//! shapes evaluation needs.
//!
//! [`murmur3_32`] hashes a sequence of byte pieces as one stream, through
//! [`Murmur3`], which carries a partial 4-byte block from one piece to the next.
//! [`Prefix`] is the hot path of a sticky rollout: the hash state after a constant
//! prefix (`"{group_id}:"`), with that prefix's partial block kept, built once when
//! rules are compiled. Hashing a key after it then only reads the key: one 4-byte
//! read, shifted into the block the prefix left open, then whole blocks read
//! where they lie in the key, and the last one to three bytes with one
//! overlapping read; no per-byte loop, no branch on the key's length beyond the
//! block loop. Both give the reference algorithm's value bit for bit; the tests
//! check them against the published vectors and against a whole-string
//! implementation.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// MurmurHash3 x86 32-bit of the concatenation of `parts`, with `seed`.
///
/// The pieces are hashed as one byte stream: `murmur3_32(s, &[b"ab", b"cd"])`
/// equals `murmur3_32(s, &[b"abcd"])`, whatever the split, with no allocation.
/// The total length is folded in modulo 2³², as the reference implementation
/// does.
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::murmur3_32;
///
/// assert_eq!(murmur3_32(0, &[]), 0);
/// assert_eq!(murmur3_32(0, &[b"hello"]), 0x248b_fa47);
/// assert_eq!(murmur3_32(0, &[b"he", b"", b"llo"]), 0x248b_fa47);
/// ```
#[must_use]
pub fn murmur3_32(seed: u32, parts: &[&[u8]]) -> u32 {
    let mut hasher = Murmur3::new(seed);
    for part in parts {
        hasher.write(part);
    }
    hasher.finish()
}

#[inline(always)]
const fn scramble(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline(always)]
const fn mix_block(h: u32, k: u32) -> u32 {
    (h ^ scramble(k))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// The reference's final avalanche, after the tail and the length are folded in.
#[inline(always)]
const fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Streaming MurmurHash3 x86 32-bit state.
///
/// Bytes that do not fill a 4-byte block are carried to the next `write`, so
/// blocks may straddle the pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Murmur3 {
    h: u32,
    /// Up to three pending bytes, packed little-endian.
    carry: u32,
    /// How many bytes `carry` holds (0..=3).
    carry_len: u32,
    /// Total bytes written, modulo 2³² like the reference's `len`.
    len: u32,
}

impl Murmur3 {
    #[inline]
    const fn new(seed: u32) -> Self {
        Self {
            h: seed,
            carry: 0,
            carry_len: 0,
            len: 0,
        }
    }

    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        // Truncation is the reference behaviour: its length is folded mod 2^32.
        self.len = self.len.wrapping_add(bytes.len() as u32);

        if self.carry_len > 0 {
            while self.carry_len < 4 {
                let Some((&byte, rest)) = bytes.split_first() else {
                    return;
                };
                self.carry |= u32::from(byte) << (8 * self.carry_len);
                self.carry_len += 1;
                bytes = rest;
            }
            self.h = mix_block(self.h, self.carry);
            self.carry = 0;
            self.carry_len = 0;
        }

        let mut blocks = bytes.chunks_exact(4);
        for block in &mut blocks {
            let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
            self.h = mix_block(self.h, k);
        }
        let rest = blocks.remainder();
        for (i, &byte) in rest.iter().enumerate() {
            self.carry |= u32::from(byte) << (8 * i);
        }
        // `rest` holds at most three bytes.
        self.carry_len = rest.len() as u32;
    }

    #[inline]
    fn finish(self) -> u32 {
        // `scramble(0)` is 0, so an empty carry changes nothing.
        fmix(self.h ^ scramble(self.carry) ^ self.len)
    }
}

/// The hash state after a fixed prefix, ready to hash any number of keys after it.
///
/// The state of [`Murmur3`] after writing the prefix, with what [`Prefix::hash`]
/// needs to join the prefix's partial block to the key precomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Prefix {
    /// State after the prefix's whole blocks.
    h: u32,
    /// The prefix's last `len % 4` bytes, little-endian: the start of the block
    /// that the key's first bytes complete.
    tail: u32,
    /// `8 * (len % 4)`: the bit where the key's bytes start in that block.
    shift: u32,
    /// `4 - len % 4`: how many key bytes complete it (1..=4).
    fill: u32,
    /// The prefix's length, modulo 2³².
    len: u32,
}

impl Prefix {
    /// The state after `parts`, hashed as one stream with `seed`.
    pub(super) fn new(seed: u32, parts: &[&[u8]]) -> Prefix {
        let mut hasher = Murmur3::new(seed);
        for part in parts {
            hasher.write(part);
        }
        Prefix {
            h: hasher.h,
            tail: hasher.carry,
            shift: 8 * hasher.carry_len,
            fill: 4 - hasher.carry_len,
            len: hasher.len,
        }
    }

    /// MurmurHash3 of the prefix followed by `key`.
    #[inline]
    pub(super) fn hash(&self, key: &[u8]) -> u32 {
        let Some(first) = key.first_chunk::<4>() else {
            return self.hash_short(key);
        };
        // The block the prefix left open, completed by the key's first `fill`
        // bytes; the shift drops the key bytes that belong to the next block.
        let mut h = mix_block(
            self.h,
            self.tail | (u32::from_le_bytes(*first) << self.shift),
        );
        // From here on every block is four bytes of the key, read as they lie.
        // `fill` is at most 4 and the key at least 4 bytes long; saying so with
        // `min` lets the compiler drop the slice's bounds check.
        let rest = &key[(self.fill as usize).min(4)..];
        let mut blocks = rest.chunks_exact(4);
        for block in &mut blocks {
            h = mix_block(
                h,
                u32::from_le_bytes([block[0], block[1], block[2], block[3]]),
            );
        }
        let tail = last_bytes(key, blocks.remainder().len());
        // `scramble(0)` is 0, so an empty tail changes nothing.
        fmix(h ^ scramble(tail) ^ self.len.wrapping_add(key.len() as u32))
    }

    /// [`hash`](Self::hash) for a key shorter than a block, which may or may
    /// not complete the prefix's partial one: the streaming path.
    #[cold]
    fn hash_short(&self, key: &[u8]) -> u32 {
        let mut hasher = Murmur3 {
            h: self.h,
            carry: self.tail,
            carry_len: self.shift / 8,
            len: self.len,
        };
        hasher.write(key);
        hasher.finish()
    }
}

/// The last `n` (0..=3) bytes of `key`, little-endian, for a key of at least
/// four bytes.
#[inline(always)]
fn last_bytes(key: &[u8], n: usize) -> u32 {
    match key.last_chunk::<4>() {
        // The last four bytes, shifted up so that the last `n` cross into the
        // high half (none when `n` is 0), then brought down.
        Some(last) => ((u64::from(u32::from_le_bytes(*last)) << (8 * n)) >> 32) as u32,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MurmurHash3 x86_32 reference values as published for the algorithm
    /// (the test vectors listed with the Wikipedia description and the SMHasher
    /// derived suites), cross-checked against the `mmh3` 5.3.1 Python package,
    /// the hash library of Unleash's Python SDK.
    const VECTORS: &[(&[u8], u32, u32)] = &[
        (b"", 0, 0),
        (b"", 1, 0x514e_28b7),
        (b"", 0xffff_ffff, 0x81f1_6f39),
        (b"\0\0\0\0", 0, 0x2362_f9de),
        (b"aaaa", 0x9747_b28c, 0x5a97_808a),
        (b"aaa", 0x9747_b28c, 0x283e_0130),
        (b"aa", 0x9747_b28c, 0x5d21_1726),
        (b"a", 0x9747_b28c, 0x7fa0_9ea6),
        (b"abcd", 0x9747_b28c, 0xf047_8627),
        (b"abc", 0x9747_b28c, 0xc84a_62dd),
        (b"ab", 0x9747_b28c, 0x7487_5592),
        (b"abc", 0, 0xb3dd_93fa),
        (b"hello", 0, 0x248b_fa47),
        (b"hello", 1, 0xbb4a_bcad),
        (b"Hello, world!", 0, 0xc036_3e43),
        (b"Hello, world!", 0x9747_b28c, 0x2488_4cba),
        // "ππππππππ" in UTF-8.
        (
            "\u{3c0}\u{3c0}\u{3c0}\u{3c0}\u{3c0}\u{3c0}\u{3c0}\u{3c0}".as_bytes(),
            0x9747_b28c,
            0xd580_63c1,
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            0,
            0xee92_5b90,
        ),
        (
            b"The quick brown fox jumps over the lazy dog",
            0,
            0x2e4f_f723,
        ),
        (
            b"The quick brown fox jumps over the lazy dog",
            0x9747_b28c,
            0x2fa8_26cd,
        ),
    ];

    #[test]
    fn published_vectors_whole_input() {
        for &(input, seed, expected) in VECTORS {
            assert_eq!(
                murmur3_32(seed, &[input]),
                expected,
                "murmur3_32({seed:#x}, {:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn published_vectors_every_two_way_split() {
        for &(input, seed, expected) in VECTORS {
            for at in 0..=input.len() {
                let (a, b) = input.split_at(at);
                assert_eq!(
                    murmur3_32(seed, &[a, b]),
                    expected,
                    "split at {at} of {:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn published_vectors_every_three_way_split_with_empty_pieces() {
        for &(input, seed, expected) in VECTORS {
            for i in 0..=input.len() {
                for j in i..=input.len() {
                    let parts = [&input[..i], &[][..], &input[i..j], &input[j..], &[][..]];
                    assert_eq!(
                        murmur3_32(seed, &parts),
                        expected,
                        "splits at {i},{j} of {:?}",
                        String::from_utf8_lossy(input)
                    );
                }
            }
        }
    }

    #[test]
    fn byte_at_a_time_matches_whole() {
        for &(input, seed, expected) in VECTORS {
            let parts: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(murmur3_32(seed, &parts), expected);
        }
    }

    /// MurmurHash3 x86_32 written out from the algorithm's description, over one
    /// whole slice, sharing no code with the implementations above: what both
    /// must equal.
    fn whole_string(seed: u32, data: &[u8]) -> u32 {
        let mut h = seed;
        let blocks = data.len() / 4;
        for i in 0..blocks {
            let mut k = u32::from(data[4 * i])
                | u32::from(data[4 * i + 1]) << 8
                | u32::from(data[4 * i + 2]) << 16
                | u32::from(data[4 * i + 3]) << 24;
            k = k.wrapping_mul(0xcc9e_2d51);
            k = k.rotate_left(15);
            k = k.wrapping_mul(0x1b87_3593);
            h ^= k;
            h = h.rotate_left(13);
            h = h.wrapping_mul(5).wrapping_add(0xe654_6b64);
        }
        let tail = &data[4 * blocks..];
        let mut k = 0u32;
        if tail.len() == 3 {
            k ^= u32::from(tail[2]) << 16;
        }
        if tail.len() >= 2 {
            k ^= u32::from(tail[1]) << 8;
        }
        if !tail.is_empty() {
            k ^= u32::from(tail[0]);
            k = k.wrapping_mul(0xcc9e_2d51);
            k = k.rotate_left(15);
            k = k.wrapping_mul(0x1b87_3593);
            h ^= k;
        }
        h ^= data.len() as u32;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^ (h >> 16)
    }

    #[test]
    fn whole_string_reference_matches_published_vectors() {
        for &(input, seed, expected) in VECTORS {
            assert_eq!(whole_string(seed, input), expected);
        }
    }

    #[test]
    fn prefix_matches_published_vectors_at_every_split() {
        for &(input, seed, expected) in VECTORS {
            for at in 0..=input.len() {
                let (prefix, key) = input.split_at(at);
                assert_eq!(
                    Prefix::new(seed, &[prefix]).hash(key),
                    expected,
                    "prefix of {at} bytes of {:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn prefix_covers_every_block_alignment_and_tail_length() {
        // Prefix lengths 0..=7 (each partial-block size twice) against key
        // lengths 0..=11 (every tail size, with and without whole blocks), with
        // bytes that have high bits set.
        let bytes: Vec<u8> = (0..20u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for seed in [0, 86_028_157, u32::MAX] {
            for p in 0..=7 {
                for k in 0..=11 {
                    let (prefix, key) = (&bytes[..p], &bytes[p..p + k]);
                    assert_eq!(
                        Prefix::new(seed, &[prefix]).hash(key),
                        whole_string(seed, &bytes[..p + k]),
                        "seed {seed}, prefix {p} bytes, key {k} bytes"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn split_invariance(
            seed in any::<u32>(),
            input in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
            points.sort_unstable();
            let mut parts: Vec<&[u8]> = Vec::new();
            let mut start = 0;
            for p in points {
                parts.push(&input[start..p]);
                start = p;
            }
            parts.push(&input[start..]);
            prop_assert_eq!(murmur3_32(seed, &parts), murmur3_32(seed, &[&input]));
        }

        /// The mid-state path equals the whole-string hash for group ids and keys
        /// of any text (empty, non-ASCII) and length.
        #[test]
        fn prefix_then_key_equals_whole_string(
            seed in any::<u32>(),
            group in ".{0,200}",
            key in ".{0,200}",
        ) {
            let joined = format!("{group}:{key}");
            let prefix = Prefix::new(seed, &[group.as_bytes(), b":"]);
            prop_assert_eq!(prefix.hash(key.as_bytes()), whole_string(seed, joined.as_bytes()));
            prop_assert_eq!(murmur3_32(seed, &[joined.as_bytes()]), whole_string(seed, joined.as_bytes()));
        }

        /// The same for arbitrary bytes, at every prefix length up to 200.
        #[test]
        fn prefix_then_bytes_equals_whole_string(
            seed in any::<u32>(),
            input in proptest::collection::vec(any::<u8>(), 0..400),
            at in any::<prop::sample::Index>(),
        ) {
            let at = at.index(input.len().min(200) + 1);
            let (prefix, key) = input.split_at(at);
            prop_assert_eq!(Prefix::new(seed, &[prefix]).hash(key), whole_string(seed, &input));
        }
    }
}
