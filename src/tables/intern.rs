//! Interning of id columns (partner ids, categories, order ids): each distinct text is kept
//! once, in order of first appearance, and every row holds its index. The map holds a 64-bit
//! hash and the index only, and the texts live end to end in one buffer ([`Keys`]), so
//! millions of distinct order ids cost a few bytes each and no allocation of their own.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over the bytes then a SplitMix64 finaliser: fast for short ids, well mixed.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// A text's 64-bit hash: rustc-hash's byte hash (eight and sixteen bytes at a time, where
/// FNV-1a takes one), mixed again by [`IdHasher`] as the map's key.
fn hash(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// Whether two texts are equal: ids of 4 to 16 bytes (most partner and order ids) compared
/// as two overlapping words, inline, instead of a call to `memcmp` per row.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        let w = |x: &[u8], i: usize| u64::from_le_bytes(x[i..i + 8].try_into().expect("8 bytes"));
        w(a, 0) == w(b, 0) && w(a, n - 8) == w(b, n - 8)
    } else if (4..8).contains(&n) {
        let w = |x: &[u8], i: usize| u32::from_le_bytes(x[i..i + 4].try_into().expect("4 bytes"));
        w(a, 0) == w(b, 0) && w(a, n - 4) == w(b, n - 4)
    } else {
        a == b
    }
}

/// A list of texts held end to end in one buffer (an id column's distinct values): `keys[i]`
/// is the `i`-th text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// The texts, one after another.
    text: String,
    /// Where each text ends in `text`.
    ends: Vec<usize>,
}

impl Keys {
    /// An empty list.
    pub fn new() -> Keys {
        Keys::default()
    }

    /// How many texts.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th text (`None` past the end).
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    /// Add `s` at the end.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// The texts in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// The texts as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl std::ops::Index<usize> for Keys {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(s) => s,
            None => panic!("key {i} of {}", self.len()),
        }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Keys {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Keys {
        let mut k = Keys::new();
        iter.into_iter().for_each(|s| k.push(s.as_ref()));
        k
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Keys {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Keys {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

/// Distinct texts in order of first appearance and the index of each.
#[derive(Default)]
pub(crate) struct Interner {
    /// The first text of each hash.
    first: IdMap<u32>,
    /// Further texts sharing a hash with an earlier one (practically never used).
    more: HashMap<String, u32>,
    /// The distinct texts; index = position.
    pub(crate) keys: Keys,
    /// The index of the text interned last (the lines of an order, or of a partner, often
    /// come one after another: one comparison instead of a hash and a lookup).
    last: Option<u32>,
}

impl Interner {
    /// The index of `s`, added if new.
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(k) = self.last {
            if same(&self.keys[k as usize], s) {
                return k;
            }
        }
        let k = self.intern_new(s);
        self.last = Some(k);
        k
    }

    /// The index of `s` by its hash, added if new.
    fn intern_new(&mut self, s: &str) -> u32 {
        let h = hash(s);
        match self.first.get(&h) {
            None => {
                let k = self.keys.len() as u32;
                self.first.insert(h, k);
                self.keys.push(s);
                k
            }
            Some(&k) if same(&self.keys[k as usize], s) => k,
            Some(_) => {
                if let Some(&k) = self.more.get(s) {
                    return k;
                }
                let k = self.keys.len() as u32;
                self.more.insert(s.to_owned(), k);
                self.keys.push(s);
                k
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_in_order_of_first_appearance() {
        let mut i = Interner::default();
        let got: Vec<u32> = ["b", "a", "b", "", "a"]
            .iter()
            .map(|s| i.intern(s))
            .collect();
        assert_eq!(got, [0, 1, 0, 2, 1]);
        assert_eq!(i.keys, ["b", "a", ""]);
    }

    #[test]
    fn a_hash_collision_keeps_texts_apart() {
        let mut i = Interner::default();
        i.intern("y");
        // force a collision: "x"'s hash taken by another text
        i.first.insert(hash("x"), 0);
        assert_eq!(i.intern("x"), 1);
        assert_eq!(i.intern("x"), 1);
        // "y" is held under x's hash only in this forged map; both texts are kept, each once
        assert_eq!(i.keys, ["y", "x"]);
        assert_eq!(i.more.len(), 1);
    }

    #[test]
    fn same_compares_every_length() {
        let texts = [
            "",
            "a",
            "abc",
            "abcd",
            "abce",
            "bbcd",
            "abcdefg",
            "abcdefh",
            "abcdefgh",
            "abcdefgi",
            "SO-123456",
            "SO-123457",
            "TO-123456",
            "INS-0000123",
            "INS-0000124",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "bbcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "é-2",
            "é-3",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn keys_hold_texts_end_to_end() {
        let k: Keys = ["SO-1", "", "é-2", "SO-1"].iter().collect();
        assert_eq!(k.len(), 4);
        assert_eq!((&k[0], &k[1], &k[2], &k[3]), ("SO-1", "", "é-2", "SO-1"));
        assert_eq!(k.get(4), None);
        assert_eq!(k.to_vec(), ["SO-1", "", "é-2", "SO-1"]);
        assert_eq!(format!("{k:?}"), r#"["SO-1", "", "é-2", "SO-1"]"#);
        assert!(Keys::new().is_empty());
    }
}
