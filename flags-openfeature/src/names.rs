//! The provider's index of flag names: a flag key from the SDK to the flag's dense
//! index, once per resolution.
//!
//! An open-addressing table keyed by each name's length, first eight and last eight
//! bytes (read as two integers), so a lookup is a multiply, a load and integer
//! compares; the bytes are compared as a string only for names longer than sixteen.
//! Hand-written for a measured reason: a binary search over the sorted names (string
//! comparisons at each step) took about 17 ns of a resolution on this project's
//! machine, as much as the evaluation itself; std's `HashMap` hashes the name with
//! SipHash, which alone costs about as much.

/// Flag names with their indexes, for lookup by name.
pub(crate) struct Names {
    /// Power-of-two many slots, at most half of them used.
    slots: Box<[Option<Entry>]>,
    /// `64 - log2(slots)`: the hash's top bits pick the first slot.
    shift: u32,
}

/// One name in the table.
#[derive(Clone, Copy)]
struct Entry {
    key: Key,
    name: &'static str,
    index: usize,
}

/// What a name is compared by before its bytes are.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

impl Key {
    fn of(name: &str) -> Key {
        let bytes = name.as_bytes();
        Key {
            len: bytes.len(),
            head: word(bytes.first_chunk::<8>().map_or(bytes, |c| c.as_slice())),
            tail: word(bytes.last_chunk::<8>().map_or(bytes, |c| c.as_slice())),
        }
    }

    /// Where the probe for this key starts, for a table of `64 - shift` bits.
    fn slot(&self, shift: u32) -> usize {
        // Fibonacci hashing of the three parts: the multiply spreads every input
        // bit into the top bits, which pick the slot.
        let mixed = (self.head ^ self.tail.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        usize::try_from(mixed.checked_shr(shift).unwrap_or(0)).unwrap_or(0)
    }
}

/// Up to eight bytes as one integer (little-endian, zero-padded).
fn word(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<8>() {
        Some(eight) => u64::from_le_bytes(*eight),
        None => bytes
            .iter()
            .rev()
            .fold(0, |word, &b| (word << 8) | u64::from(b)),
    }
}

impl Names {
    /// The table of `names` (name, dense index).
    pub(crate) fn new(names: impl ExactSizeIterator<Item = (&'static str, usize)>) -> Names {
        let size = (names.len() * 2).next_power_of_two().max(2);
        let shift = 64 - size.trailing_zeros();
        let mut slots = vec![None; size].into_boxed_slice();
        for (name, index) in names {
            let key = Key::of(name);
            let mut at = key.slot(shift);
            // At most half the slots are taken, so a free one comes.
            while let Some(Some(_)) = slots.get(at) {
                at = (at + 1) & (size - 1);
            }
            if let Some(slot) = slots.get_mut(at) {
                *slot = Some(Entry { key, name, index });
            }
        }
        Names { slots, shift }
    }

    /// The dense index of flag `name`.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        let key = Key::of(name);
        let mask = self.slots.len() - 1;
        let mut at = key.slot(self.shift);
        // Ends at the first free slot: the table is never full.
        while let Some(Some(entry)) = self.slots.get(at) {
            // Sixteen bytes or fewer are wholly in `head` and `tail`.
            if entry.key == key && (key.len <= 16 || entry.name == name) {
                return Some(entry.index);
            }
            at = (at + 1) & mask;
        }
        None
    }

    /// How many names it holds.
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_name_and_nothing_else() {
        let names: Vec<&'static str> = vec![
            "",
            "a",
            "ab",
            "beta",
            "search_v2",
            "dark_mode",
            "page_size",
            "nz_only",
            "exactly8",
            "exactly_16_bytes",
            "seventeen_bytes_x",
            "beta_rollout",
            "a_rather_long_flag_name_with_a_tail",
            "a_rather_long_flag_name_with_a_tale",
            "a_rather_long_flag_same_name_with_a_tail",
        ];
        let table = Names::new(names.iter().copied().zip(0..names.len()));
        assert_eq!(table.len(), names.len());
        for (i, name) in names.iter().enumerate() {
            assert_eq!(table.get(name), Some(i), "{name:?}");
        }
        // Near misses: same length, head and tail with a different middle; a prefix;
        // a name with one more byte; case.
        for miss in [
            "a_rather_long_flag_name_with_b_tail",
            "a_rather_long_flag_nam",
            "beta_rollout_",
            "Beta",
            "b",
            "exactly9",
            "seventeen_bytes_y",
        ] {
            assert_eq!(table.get(miss), None, "{miss:?}");
        }
        let empty = Names::new(std::iter::empty());
        assert_eq!(empty.get("beta"), None);
        assert_eq!(empty.get(""), None);
    }

    #[test]
    fn many_names_collide_and_are_still_found() {
        let names: Vec<&'static str> = (0..1_000)
            .map(|i| &*Box::leak(format!("flag_{i}").into_boxed_str()))
            .collect();
        let table = Names::new(names.iter().copied().zip(0..names.len()));
        for (i, name) in names.iter().enumerate() {
            assert_eq!(table.get(name), Some(i));
        }
        assert_eq!(table.get("flag_1000"), None);
    }
}
