"""Full-text search of Chinese articles: the text side (normalising, index terms, query terms,
scoring, highlighted snippets). The database side is `selectors.article_search`.

Why our own bigram index rather than a database's full-text search
-----------------------------------------------------------------
Chinese has no spaces between words, so word-based full-text search (PostgreSQL's tsvector,
SQLite FTS5's default tokenizer) finds nothing useful without a segmenter (jieba & co., a large
dictionary to keep up to date). The remaining database techniques differ per database:
SQLite FTS5's trigram tokenizer (SQLite ≥ 3.34) and PostgreSQL's pg_trgm both need three
characters, while the most common Chinese queries are two-character words — 停水, 水表, 过户,
发票 — which would need a second, unindexed path; and the two would rank differently, so the
relevance tests would pass on one database and not the other.

Instead every article is indexed as overlapping character bigrams of its Chinese text
("水表更换" → 水表, 表更, 更换) plus its lowercase ASCII words ("IC卡" → ic), in an ordinary
table (`SearchTerm`) with one B-tree index; it works identically on SQLite and PostgreSQL and
needs no extension. A query term is split the same way; an article is a candidate when it holds
every bigram/word of every query term (AND). Each row carries a weight saying where the term
occurs (title 100, keywords 10, body 1), so the database hands over the likeliest candidates
first and bounds the work (`selectors._indexed_candidates`). The candidates are then checked in
Python for the exact phrase (bigrams present do not prove the phrase is), scored (title >
keywords > body, see `score`) and given a highlighted snippet. bench/knowledge_search.py
measures it over 10,000 articles.

ASCII words match whole words ("ic" finds "IC卡", not "music"). Single Chinese characters are
not indexed: a query made only of those falls back to a LIKE scan of titles and keywords; next
to a longer term, a single character is checked everywhere in the exact-match step.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

# Where a term occurs, as index weights: the sum over the fields holding it.
WEIGHT_TITLE = 100
WEIGHT_KEYWORDS = 10
WEIGHT_BODY = 1

MAX_TERM_LENGTH = 32  # longer ASCII words are cut to this in the index and in queries
MAX_QUERY_TERMS = 8

# Chinese (Han) characters: CJK unified ideographs, extension A, compatibility ideographs.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{_HAN}]+|[a-z0-9]+")

# Full-width letters and digits (ＡＢＣ１２３, as Chinese input methods may type them) to ASCII.
# Full-width punctuation (，。（）) is everywhere in Chinese text and separates runs either way.
_WIDE_ALNUM = "０-９Ａ-Ｚａ-ｚ"
_WIDTH = {
    code: code - 0xFEE0
    for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}
_HAS_WIDE = re.compile(f"[{_WIDE_ALNUM}]")


def normalize(text: str) -> str:
    """Lowercase, half-width text of the same length as `text` (so that a position found in the
    normalised text is the same position in the original, for highlighting)."""
    if _HAS_WIDE.search(text):  # rare: the per-character translate is slow
        text = text.translate(_WIDTH)
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lowercase to two (İ → i̇); keep those as they are.
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def _terms_of_run(run: str) -> Iterable[str]:
    if run[0].isascii():
        yield run[:MAX_TERM_LENGTH]
    elif len(run) >= 2:
        for i in range(len(run) - 1):
            yield run[i : i + 2]


def index_terms(normalized: str) -> set[str]:
    """The index terms of a normalised text: Chinese bigrams and ASCII words."""
    terms: set[str] = set()
    for match in _RUN.finditer(normalized):
        terms.update(_terms_of_run(match.group()))
    return terms


def document_terms(*, title: str, keywords: Sequence[str], body_text: str) -> dict[str, int]:
    """{term: weight} for one article: the weight sums the fields that hold the term."""
    weights: dict[str, int] = {}
    for text, weight in (
        (title, WEIGHT_TITLE),
        (" ".join(keywords), WEIGHT_KEYWORDS),
        (body_text, WEIGHT_BODY),
    ):
        for term in index_terms(normalize(text)):
            weights[term] = weights.get(term, 0) + weight
    return weights


@dataclass(frozen=True)
class Query:
    """A parsed search: `terms` must all occur (AND); `keys` are the index terms that every
    matching article holds (empty when the terms are too short to be indexed)."""

    terms: tuple[str, ...]
    keys: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_query(raw: str) -> Query:
    """Space-separated terms (full-width spaces too), normalised, without duplicates."""
    terms: list[str] = []
    for part in normalize(raw).split():
        part = part[:50]
        # Drop a term another one contains ("水表 水表更换" needs only 水表更换).
        if part and part not in terms:
            terms.append(part)
    terms = [t for t in terms if not any(t != o and t in o for o in terms)][:MAX_QUERY_TERMS]
    keys: set[str] = set()
    for term in terms:
        keys.update(index_terms(term))
    return Query(terms=tuple(terms), keys=tuple(sorted(keys)))


@dataclass(frozen=True)
class Document:
    """The searchable text of an article, as the selector hands it to `score`."""

    title: str
    keywords: tuple[str, ...]
    body_text: str


def score(query: Query, doc: Document) -> int:
    """The relevance of `doc` for `query`, or 0 when a term occurs nowhere in it.

    Per term: in the title 100 (+50 when the title is the term, +20 when it starts with it);
    equal to a keyword 70, inside one 50; in the body 10 plus 2 per occurrence (at most 10).
    So a title or keyword hit always outranks body hits alone.
    """
    title = normalize(doc.title)
    keywords = [normalize(k) for k in doc.keywords]
    body = normalize(doc.body_text)
    total = 0
    for term in query.terms:
        points = 0
        if term in title:
            points += 100
            if title == term:
                points += 50
            elif title.startswith(term):
                points += 20
        if term in keywords:
            points += 70
        elif any(term in k for k in keywords):
            points += 50
        occurrences = body.count(term)
        if occurrences:
            points += 10 + 2 * min(occurrences, 10)
        if not points:
            return 0
        total += points
    return total


def _spans(normalized: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = normalized.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = normalized.find(term, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: Sequence[str]) -> SafeString:
    """`text` HTML-escaped, with every occurrence of a term wrapped in <mark>."""
    out: list[str] = []
    position = 0
    for start, end in _spans(normalize(text), terms):
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece of text is escaped above)


def snippet(text: str, terms: Sequence[str], width: int = 90, before: int = 24) -> SafeString:
    """About `width` characters of `text` around the first match of any term, highlighted;
    the start of the text when no term occurs in it."""
    text = " ".join(text.split())  # one line: paragraphs and tables joined by spaces
    normalized = normalize(text)
    found = [p for p in (normalized.find(t) for t in terms) if p != -1]
    start = max(0, min(found) - before) if found else 0
    end = min(len(text), start + width)
    if end - start < width:
        start = max(0, end - width)
    piece = highlight(text[start:end], terms)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(f"{prefix}{piece}{suffix}")  # noqa: S308 (piece is escaped by highlight)
