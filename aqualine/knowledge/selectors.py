"""Reads of the knowledge base: the category tree, the articles a user may read, the search, and
revision diffs. Drafts are for those who manage articles only."""

from __future__ import annotations

import difflib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.safestring import SafeString, mark_safe

from aqualine.knowledge import search
from aqualine.knowledge.models import Article, ArticleRevision, Category, SearchTerm
from aqualine.knowledge.permissions import KnowledgePerm
from aqualine.knowledge.sanitize import html_to_text

# Candidates the index hands to the exact check and scoring (the likeliest first): a bound on the
# work one search does however common its words are.
MAX_CANDIDATES = 100
MAX_RESULTS = 50
# With several index keys, at most this many rows of each key (its heaviest: title, keywords)
# are grouped at first; see _indexed_candidates.
KEY_ROWS_CAP = 1000


def may_manage(user: object) -> bool:
    return bool(user.has_perm(KnowledgePerm.MANAGE_ARTICLES))  # type: ignore[attr-defined]


def articles_visible_to(user: object) -> QuerySet[Article]:
    articles = Article.objects.select_related("category", "updated_by")
    if may_manage(user):
        return articles
    return articles.filter(status=Article.Status.PUBLISHED)


def article_get(*, user: object, pk: int) -> Article | None:
    return articles_visible_to(user).filter(pk=pk).first()


# --- category tree ----------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    depth: int
    count: int = 0  # articles in this category and below that the user may read
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.category.pk


def category_tree(*, user: object, include_inactive: bool = False) -> list[CategoryNode]:
    """The category tree as nested nodes in display order. Inactive categories (and everything
    under them) are left out unless `include_inactive`."""
    categories = list(Category.objects.order_by("sort_order", "name", "id"))
    counts = dict(
        articles_visible_to(user)
        .order_by()
        .values_list("category")
        .annotate(n=Count("id"))
        .values_list("category", "n")
    )
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)

    def build(parent: int | None, depth: int) -> list[CategoryNode]:
        nodes = []
        for category in by_parent.get(parent, []):
            if not category.is_active and not include_inactive:
                continue
            node = CategoryNode(category, depth, children=build(category.pk, depth + 1))
            node.count = counts.get(category.pk, 0) + sum(c.count for c in node.children)
            nodes.append(node)
        return nodes

    return build(None, 0)


def flatten(nodes: Iterable[CategoryNode]) -> list[CategoryNode]:
    flat: list[CategoryNode] = []
    for node in nodes:
        flat.append(node)
        flat.extend(flatten(node.children))
    return flat


def category_subtree_ids(category: Category) -> list[int]:
    """The category and every category below it."""
    parents = dict(Category.objects.values_list("id", "parent_id"))
    ids = [category.pk]
    index = 0
    while index < len(ids):
        ids.extend(c for c, p in parents.items() if p == ids[index])
        index += 1
    return ids


def category_path(category: Category) -> list[Category]:
    """The category's ancestors from the top, the category last (for breadcrumbs)."""
    by_id = {c.pk: c for c in Category.objects.all()}
    path: list[Category] = []
    current: Category | None = by_id.get(category.pk, category)
    while current is not None and len(path) < 50:
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return path[::-1]


def articles_in_category(*, user: object, category: Category) -> QuerySet[Article]:
    return (
        articles_visible_to(user)
        .filter(category__in=category_subtree_ids(category))
        .order_by("category__sort_order", "title", "id")
    )


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One search result (plain values: a search loads no model instances)."""

    pk: int
    title: str
    status: str
    category_name: str
    updated_at: datetime
    score: int
    title_html: SafeString
    snippet_html: SafeString


@dataclass(frozen=True)
class SearchResult:
    query: search.Query
    hits: list[Hit]
    truncated: bool  # more candidates than were examined, or more hits than returned


def _rows(sql: str, params: Sequence[str | int | bool]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _indexed_candidates(
    keys: tuple[str, ...], *, drafts: bool, limit: int, cap: int | None
) -> list[int]:
    """Articles holding every key, by summed weight (title hits first).

    One key: the index (term, published, weight, article) hands the rows over already in
    order, so the database reads only `limit` of them. Several keys: the rows of each key are
    grouped by article; with `cap`, only each key's `cap` heaviest rows are read, which bounds
    the work for words found in thousands of articles (the caller falls back to `cap=None` when
    that cut may have lost matches)."""
    # The SQL text is built from the table name and fixed fragments only (hence the noqa: S608);
    # every value, the keys included, is a query parameter.
    table = connection.ops.quote_name(SearchTerm._meta.db_table)
    published = "" if drafts else " AND published = %s"
    flag: list[str | int | bool] = [] if drafts else [True]
    arm = f"SELECT article_id, weight FROM {table} WHERE term = %s{published}"  # noqa: S608
    if len(keys) == 1:
        return _rows(
            f"{arm} ORDER BY weight DESC, article_id DESC LIMIT %s", [keys[0], *flag, limit]
        )
    params: list[str | int | bool] = []
    if cap is None:
        placeholders = ", ".join(["%s"] * len(keys))
        union = f"SELECT article_id, weight FROM {table} WHERE term IN ({placeholders})"  # noqa: S608
        union += published
        params.extend([*keys, *flag])
    else:
        arms = []
        for number, key in enumerate(keys):
            arms.append(
                f"SELECT article_id, weight FROM ({arm} "  # noqa: S608
                f"ORDER BY weight DESC, article_id DESC LIMIT %s) k{number}"
            )
            params.extend([key, *flag, cap])
        union = " UNION ALL ".join(arms)
    sql = (
        f"SELECT article_id FROM ({union}) hits GROUP BY article_id HAVING COUNT(*) = %s "  # noqa: S608
        "ORDER BY SUM(weight) DESC, article_id DESC LIMIT %s"
    )
    return _rows(sql, [*params, len(keys), limit])


def _candidate_ids(
    query: search.Query, *, drafts: bool, category_ids: list[int] | None
) -> tuple[list[int], bool]:
    """Articles holding every index key of the query, likeliest first (at most MAX_CANDIDATES;
    the flag says whether there were more)."""
    wanted = MAX_CANDIDATES + 1
    if query.keys and category_ids is None:
        ids = _indexed_candidates(query.keys, drafts=drafts, limit=wanted, cap=KEY_ROWS_CAP)
        if len(query.keys) > 1 and len(ids) < wanted:
            # The per-key cut may have dropped articles that hold every key only in their text.
            ids = _indexed_candidates(query.keys, drafts=drafts, limit=wanted, cap=None)
    elif query.keys:
        rows = SearchTerm.objects.filter(term__in=query.keys, article__category__in=category_ids)
        if not drafts:
            rows = rows.filter(published=True)
        ids = list(
            rows.order_by()
            .values("article_id")
            .annotate(keys=Count("id"), weight=Sum("weight"))
            .filter(keys=len(query.keys))
            .order_by("-weight", "-article_id")
            .values_list("article_id", flat=True)[:wanted]
        )
    else:
        # Only single characters, which are not indexed: a LIKE scan of the short fields
        # (titles and keywords; the text too would be a scan of every body).
        articles = Article.objects.all()
        if not drafts:
            articles = articles.filter(status=Article.Status.PUBLISHED)
        if category_ids is not None:
            articles = articles.filter(category__in=category_ids)
        for term in query.terms:
            articles = articles.filter(Q(title__icontains=term) | Q(keywords__icontains=term))
        ids = list(articles.order_by("-updated_at", "-id").values_list("id", flat=True)[:wanted])
    return ids[:MAX_CANDIDATES], len(ids) > MAX_CANDIDATES


def article_search(
    *,
    user: object,
    query: str,
    category: Category | None = None,
    limit: int = MAX_RESULTS,
) -> SearchResult:
    """Articles matching every space-separated term of `query`, best first: title and keyword
    hits before body hits, then the shorter title, then the most recently updated."""
    parsed = search.parse_query(query)
    if not parsed:
        return SearchResult(parsed, [], False)
    drafts = may_manage(user)
    category_ids = category_subtree_ids(category) if category is not None else None
    ids, truncated = _candidate_ids(parsed, drafts=drafts, category_ids=category_ids)
    rows = Article.objects.filter(pk__in=ids)
    if not drafts:
        rows = rows.filter(status=Article.Status.PUBLISHED)
    scored = []
    for pk, title, keywords, body_text, updated_at, status, category_name in rows.values_list(
        "id", "title", "keywords", "body_text", "updated_at", "status", "category__name"
    ):
        doc = search.Document(title, tuple(k for k in keywords.split(",") if k), body_text)
        points = search.score(parsed, doc)
        if points:
            hit = Hit(
                pk, title, status, category_name, updated_at, points, SafeString(), SafeString()
            )
            scored.append((-points, len(title), -updated_at.timestamp(), -pk, body_text, hit))
    scored.sort(key=lambda row: row[:4])
    hits = [
        replace(
            hit,
            title_html=search.highlight(hit.title, parsed.terms),
            snippet_html=search.snippet(body_text, parsed.terms),
        )
        for *_key, body_text, hit in scored[:limit]
    ]
    return SearchResult(parsed, hits, truncated or len(scored) > limit)


# --- revisions --------------------------------------------------------------------------------


def article_revisions(article: Article) -> QuerySet[ArticleRevision]:
    return article.revisions.select_related("author").order_by("-number")


def revision_previous(revision: ArticleRevision) -> ArticleRevision | None:
    return (
        ArticleRevision.objects.filter(article=revision.article_id, number__lt=revision.number)
        .order_by("-number")
        .first()
    )


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed", "changed"
    html: SafeString


def _inline_diff(old: str, new: str) -> SafeString:
    """One changed line: removed characters in <del>, added ones in <ins>, the rest escaped."""
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(html.escape(old[a1:a2]))
            continue
        if a2 > a1:
            out.append(f"<del>{html.escape(old[a1:a2])}</del>")
        if b2 > b1:
            out.append(f"<ins>{html.escape(new[b1:b2])}</ins>")
    return mark_safe("".join(out))  # noqa: S308 (all text escaped above)


def text_diff(old: str, new: str) -> list[DiffLine]:
    """A line diff of two texts; a line changed in place shows its changed characters."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            lines.extend(DiffLine("same", mark_safe(html.escape(t))) for t in old_lines[a1:a2])  # noqa: S308
            continue
        if op == "replace" and a2 - a1 == b2 - b1:
            for o, n in zip(old_lines[a1:a2], new_lines[b1:b2], strict=True):
                # A line edited in place shows its changed characters; a line rewritten (less
                # than half in common) reads better as the old line and the new one.
                if difflib.SequenceMatcher(None, o, n, autojunk=False).ratio() >= 0.5:
                    lines.append(DiffLine("changed", _inline_diff(o, n)))
                else:
                    lines.append(DiffLine("removed", mark_safe(html.escape(o))))  # noqa: S308
                    lines.append(DiffLine("added", mark_safe(html.escape(n))))  # noqa: S308
            continue
        lines.extend(DiffLine("removed", mark_safe(html.escape(t))) for t in old_lines[a1:a2])  # noqa: S308
        lines.extend(DiffLine("added", mark_safe(html.escape(t))) for t in new_lines[b1:b2])  # noqa: S308
    return lines


@dataclass(frozen=True)
class RevisionDiff:
    title: list[DiffLine]
    keywords: list[DiffLine]
    body: list[DiffLine]
    status_changed: bool

    @property
    def empty(self) -> bool:
        return not self.status_changed and all(
            line.kind == "same" for line in [*self.title, *self.keywords, *self.body]
        )


def revision_diff(
    old: ArticleRevision | None, new: ArticleRevision | dict[str, str]
) -> RevisionDiff:
    """What changed from `old` (nothing: the first revision) to `new` (a revision, or the text an
    editor is trying to save: {"title", "keywords", "body"})."""

    def parts(r: ArticleRevision | dict[str, str] | None) -> tuple[str, str, str, str]:
        if r is None:
            return "", "", "", ""
        if isinstance(r, dict):
            return r["title"], r["keywords"], html_to_text(r["body"]), r.get("status", "")
        return r.title, r.keywords, html_to_text(r.body), r.status

    old_title, old_keywords, old_body, old_status = parts(old)
    new_title, new_keywords, new_body, new_status = parts(new)
    return RevisionDiff(
        title=text_diff(old_title, new_title),
        keywords=text_diff(old_keywords.replace(",", "、"), new_keywords.replace(",", "、")),
        body=text_diff(old_body, new_body),
        status_changed=bool(old and new_status and old_status != new_status),
    )
