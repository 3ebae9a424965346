//! Test support: an in-memory tree in `tlog_tiles`' stored-hash layout, from
//! which `tlog_tiles::prove_record` / `prove_tree` / `tree_hash` read.

// Each test binary uses part of this module.
#![allow(dead_code)]

use govledger_tlog::Hash;
use tlog_tiles::{HashReader, stored_hashes, tree_hash};

/// The stored hashes of a tree, appended leaf by leaf.
#[derive(Default)]
pub struct MemTree {
    hashes: Vec<Hash>,
    size: u64,
}

impl HashReader for MemTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MemTree {
    pub fn from_leaves<T: AsRef<[u8]>>(leaves: &[T]) -> MemTree {
        let mut tree = MemTree::default();
        for leaf in leaves {
            tree.push(leaf.as_ref());
        }
        tree
    }

    pub fn push(&mut self, body: &[u8]) {
        let new = stored_hashes(self.size, body, self).expect("the earlier hashes are stored");
        self.hashes.extend(new);
        self.size += 1;
    }

    pub fn root(&self, size: u64) -> Hash {
        tree_hash(size, self).expect("a size within the tree")
    }

    pub fn inclusion(&self, index: u64, size: u64) -> Vec<Hash> {
        tlog_tiles::prove_record(size, index, self).expect("an index within the tree")
    }

    pub fn consistency(&self, from: u64, to: u64) -> Vec<Hash> {
        tlog_tiles::prove_tree(to, from, self).expect("sizes within the tree")
    }
}
