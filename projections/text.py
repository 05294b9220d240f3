"""Full-text matching on a field with a `text` payload index, as Qdrant's index does it: the
stored string and the query are split into tokens (lowercased by default), and `text` needs
every query token, `text_any` one of them, `phrase` all of them in a row. Without a text index,
Qdrant (and pointlog) match substrings instead.

Tokenizers: `word` (the default: runs of letters and digits), `whitespace`, `prefix` (word
tokens, each also indexed by its prefixes) and `multilingual` (treated as `word`). Stop words
and stemming are not applied."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projections.jsontypes import JsonObject

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Tokenizer:
    kind: str = "word"
    lowercase: bool = True
    min_len: int = 0
    max_len: int | None = None

    @classmethod
    def of(cls, params: JsonObject) -> Tokenizer:
        return cls(
            params.get("tokenizer") or "word",
            params.get("lowercase", True) is not False,
            params.get("min_token_len") or 0,
            params.get("max_token_len"),
        )

    def tokens(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        found = text.split() if self.kind == "whitespace" else _WORD.findall(text)
        return [t for t in found if len(t) >= self.min_len and self._short_enough(t)]

    def _short_enough(self, token: str) -> bool:
        return self.max_len is None or len(token) <= self.max_len

    def indexed(self, text: str) -> set[str]:
        """The tokens a stored string is found by (with the prefixes, for `prefix`)."""
        tokens = self.tokens(text)
        if self.kind != "prefix":
            return set(tokens)
        start = max(self.min_len, 1)
        return {
            t[:n] for t in tokens for n in range(start, len(t) + 1) if self._short_enough(t[:n])
        }


def text_test(form: str, query: str, tokenizer: Tokenizer) -> Callable[[Any], bool]:
    """The test of one stored value for `match.<form>` on a text-indexed field."""
    wanted = tokenizer.tokens(query)
    if not wanted:
        return lambda value: False
    if form == "phrase":
        size = len(wanted)

        def phrase(value: Any) -> bool:
            if not isinstance(value, str):
                return False
            tokens = tokenizer.tokens(value)
            return any(tokens[i : i + size] == wanted for i in range(len(tokens) - size + 1))

        return phrase
    need_all = form == "text"

    def tokens(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        present = tokenizer.indexed(value)
        found = (token in present for token in wanted)
        return all(found) if need_all else any(found)

    return tokens
