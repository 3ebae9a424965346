//! Proof queries (SPEC 6.3), the GraphQL face of `crate::proofs`: the log's
//! key and witnesses, checkpoints, inclusion and consistency proofs, and an
//! event's receipt. Readable with any token; a receipt follows the read
//! scope of SPEC 4 (`crate::scope`).

use crate::seq::Seq;
use async_graphql::{Context, Object, Result, SimpleObject};
use govledger_domain::values::parse_uuid;

use super::principal;
use crate::AppState;
use crate::error::{ApiCode, AppError};
use crate::transparency::CheckpointView;

/// The log's identity (`GET /v1/log`).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "TransparencyLog")]
pub struct LogObject {
    /// The checkpoint origin line, which is also the key's name.
    pub origin: String,
    /// The C2SP verifier key to check checkpoints and receipts with.
    pub verifier_key: String,
    pub witnesses: Vec<WitnessObject>,
    /// Cosignatures a checkpoint needs to count as witnessed.
    pub quorum: u64,
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Witness")]
pub struct WitnessObject {
    pub name: String,
    pub verifier_key: String,
}

/// A signed checkpoint (C2SP tlog-checkpoint).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Checkpoint")]
pub struct CheckpointObject {
    /// The tree size: the checkpoint covers events with seq 1 to `size`.
    pub size: Seq,
    /// The tree's root hash, lowercase hex.
    pub root_hash: String,
    /// The signed note with every cosignature received.
    pub note: String,
    /// Names of the configured witnesses whose cosignatures verify.
    pub cosigned_by: Vec<String>,
    /// At least the quorum of witnesses cosigned it.
    pub witnessed: bool,
}

impl From<CheckpointView> for CheckpointObject {
    fn from(c: CheckpointView) -> Self {
        CheckpointObject {
            size: Seq(c.size),
            root_hash: govledger_tlog::merkle::to_hex(&c.root),
            note: c.note,
            cosigned_by: c.cosigned_by,
            witnessed: c.witnessed,
        }
    }
}

/// An RFC 9162 inclusion proof.
#[derive(SimpleObject, Debug, Clone)]
pub struct InclusionProof {
    pub seq: Seq,
    pub leaf_index: Seq,
    pub tree_size: Seq,
    pub leaf_hash: String,
    /// Audit path, lowest level first, lowercase hex.
    pub path: Vec<String>,
}

/// An RFC 9162 consistency proof.
#[derive(SimpleObject, Debug, Clone)]
pub struct ConsistencyProof {
    pub from: Seq,
    pub to: Seq,
    pub path: Vec<String>,
}

/// Queries about checkpoints and proofs.
#[derive(Default)]
pub struct ProofQuery;

#[Object]
impl ProofQuery {
    /// The log's origin, verifier key, witnesses and quorum.
    async fn transparency_log(&self, ctx: &Context<'_>) -> Result<LogObject> {
        principal(ctx)?;
        let info = ctx.data::<AppState>()?.transparency()?.info();
        Ok(LogObject {
            origin: info.origin,
            verifier_key: info.verifier_key,
            witnesses: info
                .witnesses
                .into_iter()
                .map(|w| WitnessObject { name: w.name, verifier_key: w.verifier_key })
                .collect(),
            quorum: info.quorum as u64,
        })
    }

    /// The checkpoint signed at `size`, or the latest one.
    async fn checkpoint(&self, ctx: &Context<'_>, size: Option<Seq>) -> Result<CheckpointObject> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        let view = state
            .with_log(move |log, _| match size {
                Some(size) => log.at(size.0),
                None => log.latest(),
            })
            .await?;
        Ok(view.into())
    }

    /// The inclusion proof of event `seq` in the tree of `size` (default: the latest checkpoint's).
    async fn inclusion_proof(&self, ctx: &Context<'_>, seq: Seq, size: Option<Seq>) -> Result<InclusionProof> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        let p = state
            .with_log(move |log, _| {
                let size = match size {
                    Some(s) => s.0,
                    None => log.latest()?.size,
                };
                log.inclusion(seq.0, size)
            })
            .await?;
        Ok(InclusionProof {
            seq: Seq(p.seq),
            leaf_index: Seq(p.leaf_index),
            tree_size: Seq(p.tree_size),
            leaf_hash: p.leaf_hash,
            path: p.path,
        })
    }

    /// The consistency proof from the tree of `from` to the tree of `to` (default: the latest checkpoint's).
    async fn consistency_proof(&self, ctx: &Context<'_>, from: Seq, to: Option<Seq>) -> Result<ConsistencyProof> {
        principal(ctx)?;
        let state = ctx.data::<AppState>()?;
        let p = state
            .with_log(move |log, _| {
                let to = match to {
                    Some(t) => t.0,
                    None => log.latest()?.size,
                };
                log.consistency(from.0, to)
            })
            .await?;
        Ok(ConsistencyProof { from: Seq(p.from), to: Seq(p.to), path: p.path })
    }

    /// The receipt (C2SP tlog-proof@v1 text) of the event `id`, for events this token may read.
    async fn receipt(&self, ctx: &Context<'_>, id: String) -> Result<String> {
        let scope = crate::scope::Scope::of(principal(ctx)?);
        let state = ctx.data::<AppState>()?;
        let uuid = parse_uuid(&id).map_err(|_| AppError::Refused {
            code: ApiCode::InvalidQuery,
            index: None,
            field: Some("id".into()),
            message: format!("{id:?} is not an event id (a UUID)"),
        })?;
        let unknown = || AppError::refused(ApiCode::NotFound, format!("no event {id} that this token may read"));
        let event = state.event_by_id(uuid).await?;
        let event = state.readable(&scope, event).await?.ok_or_else(unknown)?;
        let seq = event.seq;
        Ok(state.with_log(move |log, reader| log.receipt(reader, seq)).await?)
    }
}
