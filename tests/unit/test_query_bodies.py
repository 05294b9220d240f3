"""Query bodies that Qdrant refuses as malformed are refused with a 400 naming the field, never
answered with a 500."""

from __future__ import annotations

import pytest

from api.query_body import query_stage
from projections.errors import FormatError


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"order_by": None}},
        {"prefetch": {"query": {"order_by": None}}},
    ],
)
def test_an_order_by_query_without_a_key_is_a_format_error(body: dict) -> None:
    with pytest.raises(FormatError, match=r"query\.order_by: invalid type: null"):
        query_stage(body)
