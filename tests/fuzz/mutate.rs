//! Byte mutators for the stable fuzz harness, driven by a seeded PRNG.
//!
//! No coverage feedback is available on stable Rust, so the mutators are
//! biased towards what breaks DNS parsers: header counts, label lengths,
//! compression pointers (RFC 1035 §4.1.4) that point forwards, backwards,
//! at themselves or past the end, and truncation anywhere. Every mutator
//! keeps the input at most [`MAX_LEN`] bytes.

use rand::RngExt;
use rand::rngs::StdRng;

/// The largest input the harness builds: one TCP message (RFC 1035 §4.2.2).
pub const MAX_LEN: usize = 65_535;

/// Byte values that mean something to a DNS parser: zero (root label, end
/// of name), 0xFF, the compression-pointer prefix 0xC0, the largest label
/// length 63 and the first invalid one 64, the reserved label types 0x40
/// and 0x80, and small counts.
const INTERESTING_U8: [u8; 12] = [
    0x00, 0x01, 0x02, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xFE, 0xFF, 0x29,
];

/// 16-bit values for counts, types, classes and lengths: zero, one, the
/// OPT type (41), the TCP maximum, the sign bit, the pointer to the first
/// name (0xC00C) and a pointer to the header itself (0xC000).
const INTERESTING_U16: [u16; 10] = [
    0x0000, 0x0001, 0x0029, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0xC00C, 0xC000, 0xFFFF,
];

/// The mutators, by name (used in self-tests and in failure messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutator {
    /// Flip one bit.
    BitFlip,
    /// Set one byte to a random value.
    ByteSet,
    /// Set one byte to an interesting value.
    InterestingByte,
    /// Set two bytes (big-endian) to an interesting 16-bit value.
    InterestingWord,
    /// Set one of the four header counts (offsets 4..12).
    HeaderCount,
    /// Write a compression pointer (0xC0 | hi, lo) to a random offset.
    Pointer,
    /// Insert random bytes.
    Insert,
    /// Delete a range.
    Delete,
    /// Copy a range to another place (inserted).
    Duplicate,
    /// Cut the input short.
    Truncate,
    /// The start of this input and the end of another corpus entry.
    Splice,
}

/// All mutators, for uniform choice.
pub const ALL: [Mutator; 11] = [
    Mutator::BitFlip,
    Mutator::ByteSet,
    Mutator::InterestingByte,
    Mutator::InterestingWord,
    Mutator::HeaderCount,
    Mutator::Pointer,
    Mutator::Insert,
    Mutator::Delete,
    Mutator::Duplicate,
    Mutator::Truncate,
    Mutator::Splice,
];

/// Applies `mutator` to `input` in place; `other` is the splice partner.
pub fn apply(mutator: Mutator, input: &mut Vec<u8>, other: &[u8], rng: &mut StdRng) {
    if input.is_empty() && !matches!(mutator, Mutator::Insert | Mutator::Splice) {
        input.push(rng.random());
        return;
    }
    let len = input.len();
    match mutator {
        Mutator::BitFlip => {
            let at = rng.random_range(0..len);
            input[at] ^= 1 << rng.random_range(0..8);
        }
        Mutator::ByteSet => {
            let at = rng.random_range(0..len);
            input[at] = rng.random();
        }
        Mutator::InterestingByte => {
            let at = rng.random_range(0..len);
            input[at] = INTERESTING_U8[rng.random_range(0..INTERESTING_U8.len())];
        }
        Mutator::InterestingWord => {
            let value = INTERESTING_U16[rng.random_range(0..INTERESTING_U16.len())];
            put_u16(input, rng.random_range(0..len), value);
        }
        Mutator::HeaderCount => {
            input.resize(len.max(12), 0);
            let at = 4 + 2 * rng.random_range(0..4);
            let value = match rng.random_range(0..3) {
                0 => rng.random_range(0..4),
                1 => INTERESTING_U16[rng.random_range(0..INTERESTING_U16.len())],
                _ => rng.random(),
            };
            put_u16(input, at, value);
        }
        Mutator::Pointer => {
            let at = rng.random_range(0..len);
            let target: u16 = match rng.random_range(0..4) {
                0 => 12,
                1 => u16::try_from(at).unwrap_or(u16::MAX), // itself: a loop
                2 => rng.random_range(0..u16::try_from(len).unwrap_or(u16::MAX)),
                _ => rng.random(),
            };
            put_u16(input, at, 0xC000 | (target & 0x3FFF));
        }
        Mutator::Insert => {
            let at = rng.random_range(0..=len);
            let count = rng.random_range(1..=16);
            let bytes: Vec<u8> = (0..count).map(|_| rng.random()).collect();
            input.splice(at..at, bytes);
        }
        Mutator::Delete => {
            let at = rng.random_range(0..len);
            let end = (at + rng.random_range(1..=16)).min(len);
            input.drain(at..end);
        }
        Mutator::Duplicate => {
            let from = rng.random_range(0..len);
            let end = (from + rng.random_range(1..=64)).min(len);
            let piece = input[from..end].to_vec();
            let at = rng.random_range(0..=len);
            input.splice(at..at, piece);
        }
        Mutator::Truncate => {
            let keep = rng.random_range(0..len);
            input.truncate(keep);
        }
        Mutator::Splice => {
            let keep = rng.random_range(0..=len);
            input.truncate(keep);
            if !other.is_empty() {
                let from = rng.random_range(0..other.len());
                input.extend_from_slice(&other[from..]);
            }
        }
    }
    input.truncate(MAX_LEN);
}

/// Writes `value` big-endian at `at`, growing the input if it would run
/// past the end.
fn put_u16(input: &mut Vec<u8>, at: usize, value: u16) {
    if input.len() < at + 2 {
        input.resize(at + 2, 0);
    }
    input[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// A fuzz input: a corpus entry (or, now and then, random bytes) with a
/// stack of 1 to 8 mutations applied.
pub fn havoc(corpus: &[Vec<u8>], rng: &mut StdRng) -> Vec<u8> {
    if corpus.is_empty() || rng.random_ratio(1, 64) {
        let len = rng.random_range(0..80);
        return (0..len).map(|_| rng.random()).collect();
    }
    let mut input = corpus[rng.random_range(0..corpus.len())].clone();
    let other = &corpus[rng.random_range(0..corpus.len())];
    for _ in 0..rng.random_range(1..=8) {
        let mutator = ALL[rng.random_range(0..ALL.len())];
        apply(mutator, &mut input, other, rng);
    }
    input
}

/// A 64-bit FNV-1a hash of `bytes`: turns an input into the seed of what a
/// target derives from it, so a saved input replays exactly.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn every_mutator_changes_its_input_and_stays_within_the_limit() {
        let mut rng = StdRng::seed_from_u64(1);
        let seed: Vec<u8> = (0..200u8).collect();
        let other = vec![0xAA; 50];
        for mutator in ALL {
            let mut changed = 0;
            for _ in 0..200 {
                let mut input = seed.clone();
                apply(mutator, &mut input, &other, &mut rng);
                assert!(input.len() <= MAX_LEN);
                changed += usize::from(input != seed);
            }
            // A random byte can equal the old one, a splice can cut where
            // it rejoins: most, not all, mutations change something.
            assert!(changed > 150, "{mutator:?} changed only {changed}/200");
        }
    }

    #[test]
    fn pointers_and_counts_land_where_they_should() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut saw_pointer = false;
        for _ in 0..100 {
            let mut input = vec![0; 40];
            apply(Mutator::Pointer, &mut input, &[], &mut rng);
            saw_pointer |= input.windows(2).any(|w| w[0] & 0xC0 == 0xC0);
            let mut header = vec![0; 3];
            apply(Mutator::HeaderCount, &mut header, &[], &mut rng);
            assert_eq!(header.len(), 12, "a short input grows to a header");
        }
        assert!(saw_pointer);
    }

    #[test]
    fn havoc_is_deterministic_for_a_seed() {
        let corpus = vec![vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], vec![9; 30]];
        let a = havoc(&corpus, &mut StdRng::seed_from_u64(99));
        let b = havoc(&corpus, &mut StdRng::seed_from_u64(99));
        assert_eq!(a, b);
    }
}
