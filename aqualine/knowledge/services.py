"""Writes of the knowledge base. Each runs in one transaction, checks the actor's permission,
and (for articles) sanitises the body, keeps a revision of the save and rewrites the article's
rows of the search index. Views validate input and turn ValidationError/ConflictError into
messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aqualine.accounts.models import User
from aqualine.core.concurrency import claim_version
from aqualine.knowledge import search
from aqualine.knowledge.models import Article, ArticleRevision, Attachment, Category, SearchTerm
from aqualine.knowledge.permissions import KnowledgePerm
from aqualine.knowledge.sanitize import html_to_text, sanitize_html

MAX_CATEGORY_DEPTH = 5
MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 30
MAX_BODY_LENGTH = 200_000
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Accepted files by declared type, checked against the first bytes of the file.
ATTACHMENT_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}


def _require(actor: User | None, perm: KnowledgePerm) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied


# --- categories -------------------------------------------------------------------------------


def _tree() -> dict[int, int | None]:
    """{category id: parent id} of every category, rows locked against concurrent moves."""
    return dict(Category.objects.select_for_update().values_list("id", "parent_id"))


def _depth(tree: dict[int, int | None], pk: int | None) -> int:
    depth = 0
    while pk is not None:
        depth += 1
        pk = tree.get(pk)
    return depth


def _subtree_height(tree: dict[int, int | None], pk: int) -> int:
    children = [c for c, p in tree.items() if p == pk]
    return 1 + max((_subtree_height(tree, c) for c in children), default=0)


def _descendants(tree: dict[int, int | None], pk: int) -> set[int]:
    found: set[int] = set()
    todo = [pk]
    while todo:
        current = todo.pop()
        for child, parent in tree.items():
            if parent == current and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _too_deep() -> str:
    return _("Categories can be nested at most %(n)d levels deep.") % {"n": MAX_CATEGORY_DEPTH}


def _check_name(name: str, parent: Category | None, exclude: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    siblings = Category.objects.filter(parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise ValidationError({"name": _("This parent already has a category with this name.")})
    return name


def _next_sort_order(parent: Category | None) -> int:
    last = Category.objects.filter(parent=parent).order_by("-sort_order").first()
    return last.sort_order + 1 if last is not None else 0


def category_create(*, actor: User, name: str, parent: Category | None = None) -> Category:
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        tree = _tree()
        if parent is not None and _depth(tree, parent.pk) >= MAX_CATEGORY_DEPTH:
            raise ValidationError({"parent": _too_deep()})
        name = _check_name(name, parent)
        return Category.objects.create(
            name=name, parent=parent, sort_order=_next_sort_order(parent)
        )


def category_update(
    *, actor: User, category: Category, version: int, name: str, parent: Category | None
) -> Category:
    """Rename a category and/or move it (with its subtree) under another parent, or to the top.
    A move under itself or one of its own subcategories is refused."""
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        tree = _tree()
        claim_version(category, version)
        if parent is not None and (
            parent.pk == category.pk or parent.pk in _descendants(tree, category.pk)
        ):
            raise ValidationError(
                {"parent": _("A category cannot be moved under itself or its own subcategories.")}
            )
        if (
            _depth(tree, parent.pk if parent else None) + _subtree_height(tree, category.pk)
            > MAX_CATEGORY_DEPTH
        ):
            raise ValidationError({"parent": _too_deep()})
        name = _check_name(name, parent, exclude=category.pk)
        if category.parent_id != (parent.pk if parent else None):
            category.sort_order = _next_sort_order(parent)
        category.name = name
        category.parent = parent
        category.save()
    return category


def category_reorder(*, actor: User, category: Category, direction: str) -> None:
    """Move a category one place up or down among its siblings."""
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    if direction not in ("up", "down"):
        raise ValidationError(_("Unknown direction."))
    with transaction.atomic():
        _tree()
        siblings = list(
            Category.objects.filter(parent_id=category.parent_id).order_by(
                "sort_order", "name", "id"
            )
        )
        index = next(i for i, c in enumerate(siblings) if c.pk == category.pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(siblings):
            siblings[index], siblings[other] = siblings[other], siblings[index]
        for order, sibling in enumerate(siblings):
            if sibling.sort_order != order:
                Category.objects.filter(pk=sibling.pk).update(sort_order=order)


def category_set_active(*, actor: User, category: Category, active: bool) -> Category:
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        Category.objects.filter(pk=category.pk).update(is_active=active)
        category.is_active = active
    return category


def category_delete(*, actor: User, category: Category) -> None:
    """Delete an empty category: one without subcategories and without articles (drafts too)."""
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        _tree()
        if Category.objects.filter(parent=category).exists():
            raise ValidationError(_("Delete or move its subcategories first."))
        if Article.objects.filter(category=category).exists():
            raise ValidationError(_("Move or delete its articles first."))
        category.delete()


# --- articles ---------------------------------------------------------------------------------

_KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


def parse_keywords(raw: str) -> list[str]:
    """Keywords typed separated by commas (either width), 、, semicolons or spaces."""
    keywords: list[str] = []
    for word in _KEYWORD_SPLIT.split(raw or ""):
        word = word.strip()[:MAX_KEYWORD_LENGTH]
        if word and word not in keywords:
            keywords.append(word)
    return keywords[:MAX_KEYWORDS]


def _clean_article(title: str, body: str, keywords: Sequence[str]) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = _("Enter a title.")
    if len(body or "") > MAX_BODY_LENGTH:
        errors["body"] = _("The text is too long.")
    if errors:
        raise ValidationError(errors)
    clean_body = sanitize_html(body or "")
    return title[:200], clean_body, ",".join(parse_keywords(",".join(keywords)))


def _check_category(category: Category, current_id: int | None = None) -> None:
    """New articles go to active categories; an article may stay in its retired one."""
    if not category.is_active and category.pk != current_id:
        raise ValidationError({"category": _("This category is no longer in use.")})


def article_reindex(article: Article) -> None:
    """Rewrite the article's rows of the search index (call inside the saving transaction)."""
    SearchTerm.objects.filter(article=article).delete()
    weights = search.document_terms(
        title=article.title, keywords=article.keyword_list, body_text=article.body_text
    )
    published = article.status == Article.Status.PUBLISHED
    SearchTerm.objects.bulk_create(
        [
            SearchTerm(article=article, term=term, weight=weight, published=published)
            for term, weight in weights.items()
        ],
        batch_size=500,
    )


def _keep_revision(
    article: Article, actor: User | None, restored_from: int | None = None
) -> ArticleRevision:
    return ArticleRevision.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        keywords=article.keywords,
        status=article.status,
        category_name=article.category.name,
        author=actor,
        created_at=article.updated_at,
        restored_from=restored_from,
    )


def article_create(
    *,
    actor: User,
    title: str,
    body: str,
    category: Category,
    keywords: Sequence[str] = (),
    status: str = Article.Status.DRAFT,
) -> Article:
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    _check_category(category)
    title, body, keyword_text = _clean_article(title, body, keywords)
    now = timezone.now()
    with transaction.atomic():
        article = Article.objects.create(
            title=title,
            body=body,
            body_text=html_to_text(body),
            keywords=keyword_text,
            category=category,
            status=Article.Status(status),
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
        )
        _keep_revision(article, actor)
        article_reindex(article)
    return article


def _apply(
    article: Article,
    actor: User,
    *,
    title: str,
    body: str,
    keyword_text: str,
    category: Category,
    status: str,
) -> None:
    article.title = title
    article.body = body
    article.body_text = html_to_text(body)
    article.keywords = keyword_text
    article.category = category
    article.status = Article.Status(status)
    article.updated_by = actor
    article.updated_at = timezone.now()
    article.save()


def article_update(
    *,
    actor: User,
    article: Article,
    version: int,
    title: str,
    body: str,
    category: Category,
    keywords: Sequence[str] = (),
    status: str = Article.Status.DRAFT,
) -> Article:
    """Save an edit made on `version` of the article. When someone saved in between, nothing is
    written and ConflictError is raised (the editor keeps their text and decides)."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    _check_category(category, article.category_id)
    title, body, keyword_text = _clean_article(title, body, keywords)
    with transaction.atomic():
        claim_version(article, version)
        _apply(
            article,
            actor,
            title=title,
            body=body,
            keyword_text=keyword_text,
            category=category,
            status=status,
        )
        _keep_revision(article, actor)
        article_reindex(article)
    return article


def article_restore(
    *, actor: User, article: Article, revision: ArticleRevision, version: int
) -> Article:
    """Bring back an old revision as a new save (the history keeps everything in between).
    The category stays the current one; the status is the current one too, so that restoring
    text never publishes or withdraws an article by surprise."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    if revision.article_id != article.pk:
        raise PermissionDenied
    with transaction.atomic():
        claim_version(article, version)
        article.refresh_from_db(fields=["category", "status"])
        _apply(
            article,
            actor,
            title=revision.title,
            body=sanitize_html(revision.body),
            keyword_text=revision.keywords,
            category=article.category,
            status=article.status,
        )
        _keep_revision(article, actor, restored_from=revision.number)
        article_reindex(article)
    return article


def article_delete(*, actor: User, article: Article) -> None:
    """Delete an article with its history, index rows and attachments (files removed once the
    deletion is committed)."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    with transaction.atomic():
        files = [a.file for a in Attachment.objects.filter(article=article)]
        article.delete()
        for file in files:
            transaction.on_commit(lambda f=file: f.delete(save=False))  # type: ignore[misc]


# --- attachments ------------------------------------------------------------------------------


def attachment_add(*, actor: User, article: Article, file: UploadedFile) -> Attachment:
    """Attach a picture (JPEG, PNG, GIF, WebP), a PDF or a Word/Excel file of at most 10 MB."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    size = file.size or 0
    if size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": _("A file may be at most 10 MB.")})
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    magic = ATTACHMENT_TYPES.get(content_type, ())
    if not size or not any(head.startswith(m) for m in magic):
        raise ValidationError(
            {"file": _("Attach a picture (JPEG, PNG, GIF, WebP), a PDF, or a Word/Excel file.")}
        )
    with transaction.atomic():
        return Attachment.objects.create(
            article=article,
            file=file,
            name=(file.name or "file")[:200],
            content_type=content_type,
            size=size,
            uploaded_by=actor,
        )


def attachment_delete(*, actor: User, attachment: Attachment) -> None:
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    with transaction.atomic():
        file = attachment.file
        attachment.delete()
        transaction.on_commit(lambda: file.delete(save=False))
