//! The answers of SPEC 6.3 built from the kept tree, in one place for the
//! server and the CLI: the JSON inclusion and consistency proofs and an
//! event's receipt (C2SP `tlog-proof@v1`). Each checks its arguments against
//! the tree and says in a sentence what range is allowed.

use govledger_ledger::LogReader;
use govledger_tlog::merkle::to_hex;
use govledger_tlog::proof::{ConsistencyProof, InclusionProof};
use govledger_tlog::receipt::Receipt;

use crate::{StoredCheckpoint, Tree, TreeError};

fn out_of_range(reason: String) -> TreeError {
    TreeError::OutOfRange { reason }
}

impl Tree {
    /// `size` names a tree this one holds: from 1 to [`Tree::size`].
    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        let covered = self.size();
        if size == 0 || size > covered {
            return Err(out_of_range(format!(
                "size must be from 1 to {covered} (the events the tree covers so far), not {size}"
            )));
        }
        Ok(())
    }

    /// The inclusion proof of the event at `seq` in the tree of `size`.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<InclusionProof, TreeError> {
        self.check_size(size)?;
        if seq == 0 || seq > size {
            return Err(out_of_range(format!("seq must be from 1 to the tree size {size}, not {seq}")));
        }
        let path = self.inclusion(seq - 1, size)?;
        Ok(InclusionProof {
            seq,
            leaf_index: seq - 1,
            tree_size: size,
            leaf_hash: to_hex(&self.leaf(seq - 1)?),
            path: path.iter().map(to_hex).collect(),
        })
    }

    /// The consistency proof from the tree of `from` to the tree of `to`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof, TreeError> {
        self.check_size(to)?;
        if from == 0 || from > to {
            return Err(out_of_range(format!("from must be from 1 to `to` ({to}), not {from}")));
        }
        let path = self.consistency(from, to)?;
        Ok(ConsistencyProof { from, to, path: path.iter().map(to_hex).collect() })
    }

    /// The receipt of the event at `seq` against `checkpoint`, carrying the
    /// event's canonical body exactly as stored (the bytes its hash covers).
    pub fn receipt(
        &self,
        reader: &dyn LogReader,
        seq: u64,
        checkpoint: &StoredCheckpoint,
    ) -> Result<Receipt, TreeError> {
        if seq == 0 || seq > checkpoint.size {
            return Err(out_of_range(format!(
                "the checkpoint of size {} does not cover seq {seq}; a later one will",
                checkpoint.size
            )));
        }
        let mut body = None;
        reader.scan_raw(seq - 1, &mut |row| {
            body = (row.seq == seq).then(|| row.body.to_vec());
            false
        })?;
        let body = body.ok_or_else(|| TreeError::Disagrees { reason: format!("the log has no event at seq {seq}") })?;
        let path = self.inclusion(seq - 1, checkpoint.size)?;
        Ok(Receipt { body, index: seq - 1, path, checkpoint: checkpoint.note.clone() })
    }
}
