//! The field paths of a request folded into a trie, so one walk of a record finds every value.

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
}

impl Node {
    /// The child for the key `key`, whose [`fingerprint`] is `fp`, or NONE.
    #[inline]
    pub fn key_child(&self, key: &[u8], fp: u64) -> u32 {
        if self.key_bits & fingerprint_bit(fp) == 0 {
            return NONE;
        }
        for (f, k, child) in &self.keys {
            if *f == fp && &**k == key {
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
        NONE
    }

    #[inline]
    pub fn has_children(&self) -> bool {
        !self.keys.is_empty() || !self.indexes.is_empty()
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
}

impl Plan {
    pub fn new(request: &Request) -> Plan {
        let mut plan = Plan::empty();
        for field in &request.fields {
            let slot = plan.insert(&field.path);
            plan.field_slots.push(slot);
        }
        plan.user_id_slot = plan.insert(&[Step::Key("user_id".into())]);
        plan.connection_slot = plan.insert(&connection_path());
        plan
    }

    /// A trie of the record alone: no paths, no slots.
    pub(crate) fn empty() -> Plan {
        Plan {
            nodes: vec![Node { slot: NONE, ..Node::default() }],
            field_slots: Vec::new(),
            user_id_slot: NONE,
            connection_slot: NONE,
            slot_count: 0,
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
                let child = self.nodes.len() as u32;
                self.nodes.push(Node { slot: NONE, ..Node::default() });
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
