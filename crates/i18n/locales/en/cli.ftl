# The human-readable answers of the command line (English). Keep zh-CN/cli.ftl
# holding the same messages. Technical details (what the verifier found, the
# Merkle tree's state) follow in English.

## govledger verify
verify-ok = ok: { $events } events, head seq { $seq } hash { $hash }
verify-failed = FAILED at seq { $seq }: { $problem }: { $detail }
verify-before = { $events } events verified before it
verify-tree-ok = ok: { $detail }
verify-tree-failed = FAILED: { $detail }

## What the verifier finds (problem-<code>, the code of `verify --json`)
problem-hash_mismatch = hash mismatch
problem-broken_link = broken link
problem-gap = gap
problem-reordering = reordering
problem-unreadable = unreadable event
problem-truncated = truncated tail
