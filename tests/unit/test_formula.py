"""Formula expressions: each decay is 1 at its target and its midpoint one scale away;
variables read scores by prefetch, payload numbers and defaults; bad expressions are refused
before anything is scored."""

from __future__ import annotations

import pytest

from projections.errors import QdrantError
from projections.formula import Formula, Scope


def scope(payload: dict, scores: list[dict[str, float]] | None = None) -> Scope:
    return Scope(7, "7", payload, frozenset(), scores or [])


@pytest.mark.parametrize("shape", ["lin_decay", "exp_decay", "gauss_decay"])
def test_a_decay_is_one_at_its_target_and_its_midpoint_a_scale_away(shape: str) -> None:
    def at(x: float) -> float:
        params = {"x": x, "target": 10, "scale": 4, "midpoint": 0.25}
        return Formula({shape: params}, None).score(scope({}))

    assert at(10) == 1.0
    assert at(14) == pytest.approx(0.25) and at(6) == pytest.approx(0.25)


def test_variables_read_scores_payload_numbers_and_defaults() -> None:
    formula = Formula(
        {"sum": ["$score", "$score[1]", "$score[2]", "price", "doc.w", "absent"]},
        {"absent": 100, "$score[2]": 1000},
    )
    scores = [{"7": 1.0}, {"7": 10.0}]
    assert formula.score(scope({"price": 0.5, "doc": {"w": [2]}}, scores)) == 1113.5


def test_a_condition_counts_one_when_it_matches() -> None:
    formula = Formula({"mult": [2, {"key": "tag", "match": {"value": "x"}}]}, None)
    assert formula.score(scope({"tag": "x"})) == 2.0
    assert formula.score(scope({"tag": "y"})) == 0.0


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"lin_decay": {"x": 1, "midpoint": 2}}, "midpoint"),
        ({"exp_decay": {"x": 1, "scale": 0}}, "Scale must be non-zero positive"),
        ("$score[x]", "Invalid score pattern"),
        ({"div": {"left": 1}}, "missing field `right`"),
        ({"datetime": "yesterday"}, "Expected datetime"),
        ({"nope": 1}, "unknown expression"),
        ([1, 2], "untagged enum Expression"),
    ],
)
def test_bad_expressions_are_refused_when_compiled(raw: object, error: str) -> None:
    with pytest.raises(QdrantError, match=error):
        Formula(raw, None)


def test_a_non_finite_score_fails() -> None:
    with pytest.raises(QdrantError, match="non-finite"):
        Formula({"div": {"left": 1, "right": "zero"}}, None).score(scope({"zero": 0}))
    assert (
        Formula({"div": {"left": 1, "right": 0, "by_zero_default": 5}}, None).score(scope({}))
        == 5.0
    )
