"""Full-text matching on fields with a text index (and substring matching without one)."""

from __future__ import annotations

import pytest

from projections.filters import compile_filter

DOC = {"title": "Hello, World! The quick-brown FOX", "n": 1}


def matches(match: dict, index: dict | None, payload: dict = DOC) -> bool:
    flt = compile_filter({"must": [{"key": "title", "match": match}]}, index and {"title": index})
    return flt.matches(1, payload, ())


@pytest.mark.parametrize(
    ("match", "indexed", "plain"),
    [
        ({"text": "hello"}, True, False),  # tokens are lowercased; a substring is not
        ({"text": "world hello"}, True, False),  # every token, in any order
        ({"text": "lo, Wo"}, False, True),  # not tokens, but a substring
        ({"text": "hello cat"}, False, False),
        ({"text_any": "cat fox"}, True, False),
        ({"phrase": "quick brown fox"}, True, False),
        ({"phrase": "brown quick"}, False, False),
        ({"text": "quick"}, True, True),
    ],
)
def test_text_index_tokenizes_and_no_index_matches_substrings(match, indexed, plain):
    assert matches(match, {"type": "text"}) is indexed
    assert matches(match, None) is plain


def test_tokenizer_parameters():
    assert matches({"text": "Hello"}, {"type": "text", "lowercase": False}) is True
    assert matches({"text": "hello"}, {"type": "text", "lowercase": False}) is False
    assert matches({"text": "qui"}, {"type": "text", "tokenizer": "prefix"}) is True
    assert matches({"text": "qui"}, {"type": "text"}) is False
    assert matches({"text": "quick-brown"}, {"type": "text", "tokenizer": "whitespace"}) is True
    assert matches({"text": "fox"}, {"type": "text", "min_token_len": 4}) is False


def test_other_fields_and_forms_are_unaffected():
    flt = compile_filter(
        {"must": [{"key": "other", "match": {"text": "x"}}]}, {"title": {"type": "text"}}
    )
    assert flt.matches(1, {"other": "axb"}, ())
    assert matches({"value": "hello"}, {"type": "text"}) is False
