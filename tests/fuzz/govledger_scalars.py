"""Schemathesis hooks: how to generate govledger's custom GraphQL scalars.

Loaded by `tests/server/fuzz.rs` through `SCHEMATHESIS_HOOKS=govledger_scalars`.
Each strategy follows the scalar's description in schema/govledger.graphql;
output-only scalars (Number, EventIds, JSON) need none.
"""

from hypothesis import strategies as st

import schemathesis
from schemathesis.graphql import nodes

MAX_SEQ = 2**53 - 1

# Seq: a log position or a tree size, 0 to 2^53-1 (edges included).
schemathesis.graphql.scalar(
    "Seq", st.one_of(st.sampled_from([0, 1, 2**31, MAX_SEQ]), st.integers(0, MAX_SEQ)).map(nodes.Int)
)
# AmountMinor: money in fen, 0 to 10^15; Count: 0 to 2^53-1.
schemathesis.graphql.scalar("AmountMinor", st.integers(0, 10**15).map(nodes.Int))
schemathesis.graphql.scalar("Count", st.integers(0, MAX_SEQ).map(nodes.Int))


@st.composite
def _timestamps(draw):
    """RFC 3339 with an offset, at most 6 fractional digits, seconds 00-59, years 2000 on."""
    year = draw(st.integers(2000, 2030))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    digits = draw(st.integers(0, 6))
    fraction = "." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits))) if digits else ""
    offset = draw(st.sampled_from(["Z", "+08:00", "-05:30", "+00:00"]))
    return f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}"


schemathesis.graphql.scalar("Timestamp", _timestamps().map(nodes.String))
