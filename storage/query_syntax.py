"""The search language users type, parsed once and rendered for each database.

Both databases get the same language, so a query means the same thing on SQLite and on
PostgreSQL, and a user's typo is reported by us in plain words instead of surfacing as an
FTS5 or tsquery error:

    words        all must appear            gun laws
    "a phrase"   words in this order        "gun laws"
    OR           either side                obama OR biden
    -word        must not appear            obama -golf
    pre*         words starting with pre    frustrat*
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Clause", "ParsedQuery", "QuerySyntaxError", "Term", "parse_query"]

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 64
_WORD_RE = re.compile(r"\w+", re.UNICODE)


class QuerySyntaxError(ValueError):
    """A search query that cannot be understood; the message says why, for the user."""


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False

    def words(self) -> list[str]:
        return _WORD_RE.findall(self.text)


@dataclass(frozen=True, slots=True)
class Clause:
    """Alternatives joined by OR; a query matches when every clause matches."""

    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    excluded: tuple[Term, ...]


def _tokenize(query: str) -> list[tuple[str, str]]:
    """Split into ("phrase"|"word"|"or", text) tokens; a leading '-' stays on the token."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        negated = ch == "-" and i + 1 < n and query[i + 1] == '"'
        start = i + 1 if negated else i
        if query[start] == '"':
            end = query.find('"', start + 1)
            if end == -1:
                raise QuerySyntaxError('unterminated quote: add the closing " to the phrase')
            text = query[start + 1 : end]
            tokens.append(("phrase", ("-" if negated else "") + text))
            i = end + 1
            continue
        end = i
        while end < n and not query[end].isspace() and query[end] != '"':
            end += 1
        word = query[i:end]
        tokens.append(("or" if word == "OR" else "word", word))
        i = end
    return tokens


def _term(kind: str, raw: str) -> Term:
    negated = raw.startswith("-")
    text = raw[1:] if negated else raw
    if kind == "phrase":
        term = Term(text=text, phrase=True, negated=negated)
        if not term.words():
            raise QuerySyntaxError('empty phrase: put words between the quotes, "like this"')
        return term
    prefix = text.endswith("*")
    if prefix:
        text = text.rstrip("*")
    term = Term(text=text, prefix=prefix, negated=negated)
    if not term.words():
        what = "'-' must be followed by a word" if negated and not text else f"{raw!r} has no word"
        raise QuerySyntaxError(f"nothing to search for: {what}")
    if prefix and len(term.words()) != 1:
        raise QuerySyntaxError(f"{raw!r}: '*' goes at the end of a single word, as in frustrat*")
    return term


def parse_query(query: str) -> ParsedQuery:
    """Parse user input; raises QuerySyntaxError with a message meant for the user."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"query too long: at most {MAX_QUERY_LENGTH} characters")
    tokens = _tokenize(query)
    if not tokens:
        raise QuerySyntaxError("empty query: type at least one word")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    last_excluded = False
    for position, (kind, text) in enumerate(tokens):
        if kind == "or":
            if position == 0 or pending_or or position == len(tokens) - 1:
                raise QuerySyntaxError("OR needs a word on each side, as in: obama OR biden")
            if last_excluded:
                raise QuerySyntaxError("OR cannot join an excluded (-) term")
            pending_or = True
            continue
        term = _term(kind, text)
        if term.negated:
            if pending_or:
                raise QuerySyntaxError("OR cannot join an excluded (-) term")
            excluded.append(term)
            last_excluded = True
            continue
        last_excluded = False
        if pending_or:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
    if not groups:
        raise QuerySyntaxError("only excluded terms: add at least one word to search for")
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        raise QuerySyntaxError(f"too many terms: at most {MAX_TERMS}")
    return ParsedQuery(tuple(Clause(tuple(g)) for g in groups), tuple(excluded))
