//! The field paths of a request and the paths of its query folded into a trie, so one walk of a record finds every value.

use crate::query::Query;
use crate::request::{Request, Step};

/// Where the connection filter looks: the primary identity's connection, `identities[0].connection`.
pub fn connection_path() -> [Step; 3] {
    [Step::Key("identities".into()), Step::Index(0), Step::Key("connection".into())]
}

/// No trie node: the walker is inside something no selected path needs.
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Debug, Default)]
pub(crate) struct Node {
    /// Object members that lead on: (fingerprint, decoded key bytes, child). The scanner has
    /// the fingerprint of every key it reads anyway, so a lookup compares words, not bytes,
    /// until it finds the one key that can match (memcmp was 5 % of the native profile).
    pub keys: Vec<(u64, Box<[u8]>, u32)>,
    /// One bit per key fingerprint in `keys` (the bit the scanner's duplicate filter uses):
    /// most keys of a user lead nowhere, and this turns them away without the loop.
    pub key_bits: u64,
    /// Array elements that lead on.
    pub indexes: Vec<(u32, u32)>,
    /// The capture slot of the path that ends here, if one does.
    pub slot: u32,
    /// Array elements not in `indexes`: the query reads through arrays (Auth0 skips array
    /// levels), so an element goes on where its array stood. NONE when no query path passes.
    pub any_index: u32,
    /// Query paths (indexes into [`Query::paths`]) whose values are met here.
    pub query_paths: Vec<u32>,
}

impl Node {
    /// The child for the key `key`, whose [`fingerprint`] is `fp`, or NONE.
    #[inline]
    pub fn key_child(&self, key: &[u8], fp: u64) -> u32 {
        if self.key_bits & fingerprint_bit(fp) == 0 {
            return NONE;
        }
        for (f, k, child) in &self.keys {
            if *f == fp && same_bytes(k, key) {
                return *child;
            }
        }
        NONE
    }

    #[inline]
    pub fn index_child(&self, index: u32) -> u32 {
        for &(i, child) in &self.indexes {
            if i == index {
                return child;
            }
        }
        self.any_index
    }

    #[inline]
    pub fn has_children(&self) -> bool {
        !self.keys.is_empty() || !self.indexes.is_empty() || self.any_index != NONE
    }
}

/// A cheap hash of a key (its first and last eight bytes and its length), to rule out most
/// duplicate-key comparisons; equal fingerprints are still compared byte for byte.
#[inline(always)]
pub(crate) fn fingerprint(key: &[u8]) -> u64 {
    let n = key.len();
    // Fixed-size reads only: a variable-length copy into a word was a memcpy call per key.
    let (head, tail) = if n >= 8 {
        let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().expect("8 bytes"));
        (word(0), word(n - 8))
    } else {
        (key.iter().fold(0u64, |h, &b| h << 8 | b as u64), 0)
    };
    (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `a == b` for keys, a word at a time: in wasm a slice compare is a call to a byte-at-a-time
/// `memcmp` (there is no libc), which was 3 % of the Node profile.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w64 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let w32 = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match n {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        // Two overlapping reads cover any length from one to two words.
        4..=7 => w32(a, 0) == w32(b, 0) && w32(a, n - 4) == w32(b, n - 4),
        _ => {
            let mut i = 0;
            while i + 8 < n {
                if w64(a, i) != w64(b, i) {
                    return false;
                }
                i += 8;
            }
            w64(a, n - 8) == w64(b, n - 8)
        }
    }
}

/// The bit of a 64-bit filter that a key with fingerprint `fp` sets.
#[inline(always)]
pub(crate) fn fingerprint_bit(fp: u64) -> u64 {
    1u64 << (fp >> 58)
}

/// The compiled paths: a trie whose node 0 is the record itself.
#[derive(Debug)]
pub(crate) struct Plan {
    pub nodes: Vec<Node>,
    /// Capture slot of each request field, in field order.
    pub field_slots: Vec<u32>,
    /// Capture slot of the top-level `user_id` (for error reports).
    pub user_id_slot: u32,
    /// Capture slot of `identities[0].connection` (for the connection filter).
    pub connection_slot: u32,
    /// How many slots a record's captures need.
    pub slot_count: usize,
    /// The query whose paths are folded in, if the export has one.
    pub query: Option<Query>,
}

impl Plan {
    pub fn new(request: &Request, query: Option<Query>) -> Plan {
        let mut plan = Plan::empty();
        for field in &request.fields {
            let slot = plan.insert(&field.path);
            plan.field_slots.push(slot);
        }
        plan.user_id_slot = plan.insert(&[Step::Key("user_id".into())]);
        plan.connection_slot = plan.insert(&connection_path());
        // Query paths go in after every exact path: they follow the exact nodes where they
        // overlap, and add their own array-transparent nodes where they do not.
        if let Some(q) = &query {
            let mut pure = vec![false; plan.nodes.len()];
            for (id, path) in q.paths().iter().enumerate() {
                let mut seen = Vec::new();
                plan.insert_query(0, 0, path.keys(), id as u32, &mut pure, &mut seen);
            }
        }
        plan.query = query;
        plan
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node { slot: NONE, any_index: NONE, ..Node::default() });
        (self.nodes.len() - 1) as u32
    }

    /// Adds query path `id` (`keys`, `done` of them consumed on the way to `at`) below `at`.
    ///
    /// A query path does not care about arrays, so at every node it reaches it also goes on in
    /// every element: through the exact index children there (shared with field paths), and
    /// through `any_index`. A node made only for query paths ("pure") is its own `any_index`:
    /// an array step changes nothing for it, which keeps nested arrays finite.
    fn insert_query(
        &mut self,
        at: u32,
        done: usize,
        keys: &[String],
        id: u32,
        pure: &mut Vec<bool>,
        seen: &mut Vec<(u32, usize)>,
    ) {
        if seen.contains(&(at, done)) {
            return;
        }
        seen.push((at, done));
        let node = at as usize;
        if done == keys.len() {
            if !self.nodes[node].query_paths.contains(&id) {
                self.nodes[node].query_paths.push(id);
            }
        } else {
            let key = keys[done].as_bytes();
            let fp = fingerprint(key);
            let mut child = self.nodes[node].key_child(key, fp);
            if child == NONE {
                child = self.new_node();
                pure.push(true);
                self.nodes[node].key_bits |= fingerprint_bit(fp);
                self.nodes[node].keys.push((fp, key.into(), child));
            }
            self.insert_query(child, done + 1, keys, id, pure, seen);
        }
        let exact: Vec<u32> = self.nodes[node].indexes.iter().map(|&(_, c)| c).collect();
        for child in exact {
            self.insert_query(child, done, keys, id, pure, seen);
        }
        if self.nodes[node].any_index == NONE {
            self.nodes[node].any_index = if pure[node] {
                at
            } else {
                pure.push(true);
                self.new_node()
            };
        }
        let any = self.nodes[node].any_index;
        self.insert_query(any, done, keys, id, pure, seen);
    }

    /// The plan of one of `query`'s paths for a host's cell holding what the path reaches:
    /// the cell's value, and every element of its arrays at any depth, is met at that path.
    pub(crate) fn leaf(query: Query, path: u32) -> Plan {
        let mut plan = Plan::empty();
        plan.nodes[0].query_paths.push(path);
        plan.nodes[0].any_index = 0;
        plan.query = Some(query);
        plan
    }

    /// A trie of the record alone: no paths, no slots.
    pub(crate) fn empty() -> Plan {
        Plan {
            nodes: vec![Node { slot: NONE, any_index: NONE, ..Node::default() }],
            field_slots: Vec::new(),
            user_id_slot: NONE,
            connection_slot: NONE,
            slot_count: 0,
            query: None,
        }
    }

    fn insert(&mut self, path: &[Step]) -> u32 {
        let mut at = 0usize;
        for step in path {
            let found = match step {
                Step::Key(k) => self.nodes[at].key_child(k.as_bytes(), fingerprint(k.as_bytes())),
                Step::Index(i) => self.nodes[at].index_child(*i),
            };
            at = if found != NONE {
                found as usize
            } else {
                let child = self.new_node();
                match step {
                    Step::Key(k) => {
                        let fp = fingerprint(k.as_bytes());
                        self.nodes[at].key_bits |= fingerprint_bit(fp);
                        self.nodes[at].keys.push((fp, k.as_bytes().into(), child))
                    }
                    Step::Index(i) => self.nodes[at].indexes.push((*i, child)),
                }
                child as usize
            };
        }
        if self.nodes[at].slot == NONE {
            self.nodes[at].slot = self.slot_count as u32;
            self.slot_count += 1;
        }
        self.nodes[at].slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Step;

    #[test]
    fn same_bytes_is_slice_equality() {
        // Every length up to three words, a difference at every place, and unequal lengths.
        for n in 0..26usize {
            let a: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert!(same_bytes(&a, &a.clone()), "len {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a, &b), "len {n} differs at {at}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    /// The fingerprint filter may only turn away keys that are not children: every child is
    /// found, whatever its length (the fingerprint reads short and long keys differently).
    #[test]
    fn key_lookup_finds_every_child_and_nothing_else() {
        let mut plan = Plan::empty();
        let keys: Vec<String> = (0..300).map(|i| format!("{}{i}", "k".repeat(i % 19))).collect();
        for k in &keys {
            plan.insert(&[Step::Key(k.clone())]);
        }
        let root = &plan.nodes[0];
        for k in &keys {
            let fp = fingerprint(k.as_bytes());
            let child = root.key_child(k.as_bytes(), fp);
            assert_ne!(child, NONE, "{k}");
            assert_eq!(plan.nodes[child as usize].slot, keys.iter().position(|x| x == k).unwrap() as u32);
        }
        for other in ["", "k", "user_id", "kkkkkkkkkkkkkkkkkkkk0", "K0"] {
            assert_eq!(root.key_child(other.as_bytes(), fingerprint(other.as_bytes())), NONE, "{other}");
        }
    }
}
