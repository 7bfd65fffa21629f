"""Writes of the knowledge base. Each runs in one transaction, checks the actor's permission,
writes its row of the central audit log, and (for articles) sanitises the body, keeps a revision
of the save and rewrites the article's rows of the search index. Views validate input and turn
ValidationError/ConflictError into messages.

Audit rows name what changed, never the article text: a changed body is recorded as its length
in characters (see `_article_changes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aqualine.accounts.models import User
from aqualine.core.audit import audit_record, changes
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


# Audit target types: the workorders app has its own Category and Attachment models.
CATEGORY_TARGET = "knowledge_category"
ARTICLE_TARGET = "knowledge_article"
ATTACHMENT_TARGET = "knowledge_attachment"


def _category_snapshot(category: Category) -> dict[str, Any]:
    parent = category.parent if category.parent_id else None
    return {"category_name": category.name, "parent_category": parent.name if parent else ""}


def _article_snapshot(article: Article) -> dict[str, Any]:
    """The audited fields of an article. `body` is there to be compared, never recorded: audit
    rows give the length of its text instead (`_article_values`, `_article_changes`)."""
    return {
        "title": article.title,
        "article_category": article.category.name,
        "keywords": article.keyword_list,
        "body_length": len(article.body_text),
        "body": article.body,
    }


def _article_values(article: Article) -> dict[str, Any]:
    values = _article_snapshot(article)
    del values["body"]
    return {**values, "status": article.status}


def _article_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of the changed fields. A changed body shows as its length before and
    after, even when the edit kept the length."""
    diff = changes(before, after)
    if diff.pop("body", None) is not None:
        diff["body_length"] = [before["body_length"], after["body_length"]]
    return dict(sorted(diff.items()))


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


def category_create(
    *,
    actor: User,
    name: str,
    parent: Category | None = None,
    request: HttpRequest | None = None,
) -> Category:
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        tree = _tree()
        if parent is not None and _depth(tree, parent.pk) >= MAX_CATEGORY_DEPTH:
            raise ValidationError({"parent": _too_deep()})
        name = _check_name(name, parent)
        category = Category.objects.create(
            name=name, parent=parent, sort_order=_next_sort_order(parent)
        )
        audit_record(
            actor=actor,
            action="knowledge_category.create",
            target=category,
            target_type=CATEGORY_TARGET,
            data={"values": _category_snapshot(category)},
            request=request,
        )
    return category


def category_update(
    *,
    actor: User,
    category: Category,
    version: int,
    name: str,
    parent: Category | None,
    request: HttpRequest | None = None,
) -> Category:
    """Rename a category and/or move it (with its subtree) under another parent, or to the top.
    A move under itself or one of its own subcategories is refused. Audited as a move when the
    parent changed, else as an edit; a save that changes nothing is not audited."""
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        tree = _tree()
        claim_version(category, version)
        category.refresh_from_db(fields=["name", "parent", "sort_order"])
        before = _category_snapshot(category)
        moved = category.parent_id != (parent.pk if parent else None)
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
        if moved:
            category.sort_order = _next_sort_order(parent)
        category.name = name
        category.parent = parent
        category.save()
        diff = changes(before, _category_snapshot(category))
        if diff:
            audit_record(
                actor=actor,
                action="knowledge_category.move" if moved else "knowledge_category.update",
                target=category,
                target_type=CATEGORY_TARGET,
                data={"changes": diff},
                request=request,
            )
    return category


def category_reorder(
    *, actor: User, category: Category, direction: str, request: HttpRequest | None = None
) -> None:
    """Move a category one place up or down among its siblings (the first cannot go up nor the
    last down: nothing changes and nothing is audited)."""
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
        if 0 <= other < len(siblings):
            audit_record(
                actor=actor,
                action="knowledge_category.reorder",
                target=category,
                target_type=CATEGORY_TARGET,
                # Positions among the siblings, counted from 1.
                data={"changes": {"sort_order": [index + 1, other + 1]}},
                request=request,
            )


def category_set_active(
    *, actor: User, category: Category, active: bool, request: HttpRequest | None = None
) -> Category:
    """Retire a category or put it back in use (audited only when that changes something)."""
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        changed = (
            Category.objects.filter(pk=category.pk)
            .exclude(is_active=active)
            .update(is_active=active)
        )
        category.is_active = active
        if changed:
            audit_record(
                actor=actor,
                action="knowledge_category.activate" if active else "knowledge_category.deactivate",
                target=category,
                target_type=CATEGORY_TARGET,
                request=request,
            )
    return category


def category_delete(*, actor: User, category: Category, request: HttpRequest | None = None) -> None:
    """Delete an empty category: one without subcategories and without articles (drafts too)."""
    _require(actor, KnowledgePerm.MANAGE_CATEGORIES)
    with transaction.atomic():
        _tree()
        if Category.objects.filter(parent=category).exists():
            raise ValidationError(_("Delete or move its subcategories first."))
        if Article.objects.filter(category=category).exists():
            raise ValidationError(_("Move or delete its articles first."))
        audit_record(
            actor=actor,
            action="knowledge_category.delete",
            target=category,
            target_type=CATEGORY_TARGET,
            data={"values": _category_snapshot(category)},
            request=request,
        )
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
    request: HttpRequest | None = None,
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
        audit_record(
            actor=actor,
            action="knowledge_article.create",
            target=article,
            target_type=ARTICLE_TARGET,
            data={"values": _article_values(article)},
            request=request,
        )
    return article


def _article_action(before_status: str, article: Article, diff: dict[str, Any]) -> str:
    """The audit action of a save: a change of status names it, then a change of category."""
    if article.status != before_status:
        return (
            "knowledge_article.publish" if article.is_published else "knowledge_article.unpublish"
        )
    if "article_category" in diff:
        return "knowledge_article.move"
    return "knowledge_article.update"


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
    request: HttpRequest | None = None,
) -> Article:
    """Save an edit made on `version` of the article. When someone saved in between, nothing is
    written and ConflictError is raised (the editor keeps their text and decides).

    Audited as a publication or unpublication when the status changed, as a move when the
    category changed, else as an edit; a save that changes nothing is not audited."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    _check_category(category, article.category_id)
    title, body, keyword_text = _clean_article(title, body, keywords)
    with transaction.atomic():
        claim_version(article, version)
        article.refresh_from_db(
            fields=["title", "body", "body_text", "keywords", "category", "status"]
        )
        before, before_status = _article_snapshot(article), article.status
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
        diff = _article_changes(before, _article_snapshot(article))
        if diff or article.status != before_status:
            audit_record(
                actor=actor,
                action=_article_action(before_status, article, diff),
                target=article,
                target_type=ARTICLE_TARGET,
                data={"changes": diff},
                request=request,
            )
    return article


def article_restore(
    *,
    actor: User,
    article: Article,
    revision: ArticleRevision,
    version: int,
    request: HttpRequest | None = None,
) -> Article:
    """Bring back an old revision as a new save (the history keeps everything in between).
    The category stays the current one; the status is the current one too, so that restoring
    text never publishes or withdraws an article by surprise."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    if revision.article_id != article.pk:
        raise PermissionDenied
    with transaction.atomic():
        claim_version(article, version)
        article.refresh_from_db(
            fields=["title", "body", "body_text", "keywords", "category", "status"]
        )
        before = _article_snapshot(article)
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
        audit_record(
            actor=actor,
            action="knowledge_article.restore",
            target=article,
            target_type=ARTICLE_TARGET,
            data={
                "restored_from": revision.number,
                "changes": _article_changes(before, _article_snapshot(article)),
            },
            request=request,
        )
    return article


def article_delete(*, actor: User, article: Article, request: HttpRequest | None = None) -> None:
    """Delete an article with its history, index rows and attachments (files removed once the
    deletion is committed). One audit row, naming the attachments that went with it."""
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    with transaction.atomic():
        attachments = list(Attachment.objects.filter(article=article))
        files = [a.file for a in attachments]
        audit_record(
            actor=actor,
            action="knowledge_article.delete",
            target=article,
            target_type=ARTICLE_TARGET,
            data={
                "values": {
                    **_article_values(article),
                    "attachments": [a.name for a in attachments],
                }
            },
            request=request,
        )
        article.delete()
        for file in files:
            transaction.on_commit(lambda f=file: f.delete(save=False))  # type: ignore[misc]


# --- attachments ------------------------------------------------------------------------------


def _attachment_audit(
    actor: User, action: str, attachment: Attachment, request: HttpRequest | None
) -> None:
    article = attachment.article
    audit_record(
        actor=actor,
        action=action,
        target=attachment,
        target_type=ATTACHMENT_TARGET,
        target_label=f"{article.title} / {attachment.name}"[:200],
        data={
            "values": {
                "article_id": article.pk,
                "title": article.title,
                "file": attachment.name,
                "content_type": attachment.content_type,
                "size": attachment.size,
            }
        },
        request=request,
    )


def attachment_add(
    *, actor: User, article: Article, file: UploadedFile, request: HttpRequest | None = None
) -> Attachment:
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
        attachment = Attachment.objects.create(
            article=article,
            file=file,
            name=(file.name or "file")[:200],
            content_type=content_type,
            size=size,
            uploaded_by=actor,
        )
        _attachment_audit(actor, "knowledge_attachment.upload", attachment, request)
    return attachment


def attachment_delete(
    *, actor: User, attachment: Attachment, request: HttpRequest | None = None
) -> None:
    _require(actor, KnowledgePerm.MANAGE_ARTICLES)
    with transaction.atomic():
        file = attachment.file
        _attachment_audit(actor, "knowledge_attachment.delete", attachment, request)
        attachment.delete()
        transaction.on_commit(lambda: file.delete(save=False))
