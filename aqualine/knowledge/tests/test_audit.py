"""Every change of the category tree, of an article and of its attachments writes one row of the
central audit log, in the transaction of the change; a refused change writes none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.core.concurrency import ConflictError
from aqualine.core.models import AuditEvent
from aqualine.knowledge import services
from aqualine.knowledge.models import Article, Attachment, Category

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BODY = "<p>因管网抢修，明日 8:00–18:00 东区停水。</p>"


def audited(change: Callable[[], Any]) -> AuditEvent:
    """Run `change` and return the one audit row it wrote (failing if it wrote another count)."""
    since = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
    change()
    rows = list(AuditEvent.objects.filter(id__gt=since).order_by("id"))
    assert len(rows) == 1, [row.action for row in rows]
    return rows[0]


def not_audited(change: Callable[[], Any], error: type[Exception]) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(error):
        change()
    assert AuditEvent.objects.count() == before


def check(row: AuditEvent, actor: User, action: str, target_type: str, target: Any) -> None:
    assert (row.actor, row.action) == (actor, action)
    assert (row.target_type, row.target_id) == (target_type, str(target.pk))


def write(actor: User, category: Category, **fields: Any) -> Article:
    values: dict[str, Any] = {"title": "东区停水", "body": BODY, "keywords": ["停水"]}
    values.update(fields)
    return services.article_create(actor=actor, category=category, **values)


def edit(actor: User, article: Article, **fields: Any) -> Article:
    values: dict[str, Any] = {
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "keywords": article.keyword_list,
        "status": article.status,
    }
    values.update(fields)
    return services.article_update(actor=actor, article=article, version=article.version, **values)


# --- categories -------------------------------------------------------------------------------


def test_each_change_of_the_category_tree_writes_one_audit_row(supervisor: User) -> None:
    row = audited(lambda: services.category_create(actor=supervisor, name="缴费"))
    fees = Category.objects.get(name="缴费")
    check(row, supervisor, "knowledge_category.create", "knowledge_category", fees)
    assert row.target_label == "缴费"
    meters = services.category_create(actor=supervisor, name="水表")

    row = audited(
        lambda: services.category_update(
            actor=supervisor, category=meters, version=1, name="水表报装", parent=None
        )
    )
    check(row, supervisor, "knowledge_category.update", "knowledge_category", meters)
    assert row.data == {"changes": {"category_name": ["水表", "水表报装"]}}

    row = audited(
        lambda: services.category_update(
            actor=supervisor, category=meters, version=2, name="水表报装", parent=fees
        )
    )
    check(row, supervisor, "knowledge_category.move", "knowledge_category", meters)
    assert row.data == {"changes": {"parent_category": ["", "缴费"]}}

    services.category_create(actor=supervisor, name="阶梯水价", parent=fees)
    row = audited(
        lambda: services.category_reorder(actor=supervisor, category=meters, direction="down")
    )
    check(row, supervisor, "knowledge_category.reorder", "knowledge_category", meters)
    assert row.data == {"changes": {"sort_order": [1, 2]}}

    row = audited(
        lambda: services.category_set_active(actor=supervisor, category=meters, active=False)
    )
    check(row, supervisor, "knowledge_category.deactivate", "knowledge_category", meters)
    row = audited(
        lambda: services.category_set_active(actor=supervisor, category=meters, active=True)
    )
    check(row, supervisor, "knowledge_category.activate", "knowledge_category", meters)

    pk = meters.pk
    row = audited(lambda: services.category_delete(actor=supervisor, category=meters))
    assert (row.action, row.target_id, row.target_label) == (
        "knowledge_category.delete",
        str(pk),
        "水表报装",
    )


def test_a_change_that_changes_nothing_writes_no_audit_row(supervisor: User) -> None:
    first = services.category_create(actor=supervisor, name="缴费")
    services.category_create(actor=supervisor, name="水表")
    before = AuditEvent.objects.count()
    services.category_reorder(actor=supervisor, category=first, direction="up")  # already first
    services.category_set_active(actor=supervisor, category=first, active=True)  # already in use
    services.category_update(actor=supervisor, category=first, version=1, name="缴费", parent=None)
    assert AuditEvent.objects.count() == before


def test_a_refused_change_of_the_tree_writes_no_audit_row(supervisor: User) -> None:
    fees = services.category_create(actor=supervisor, name="缴费")
    prices = services.category_create(actor=supervisor, name="水价", parent=fees)
    write(supervisor, prices)
    not_audited(
        lambda: services.category_update(
            actor=supervisor, category=fees, version=1, name="缴费", parent=prices
        ),
        ValidationError,
    )
    not_audited(
        lambda: services.category_update(
            actor=supervisor, category=fees, version=7, name="收费", parent=None
        ),
        ConflictError,
    )
    not_audited(lambda: services.category_create(actor=supervisor, name=" "), ValidationError)
    not_audited(
        lambda: services.category_delete(actor=supervisor, category=prices), ValidationError
    )


# --- articles ---------------------------------------------------------------------------------


def test_each_save_of_an_article_writes_one_audit_row_named_by_what_it_did(
    supervisor: User, category: Category
) -> None:
    row = audited(lambda: write(supervisor, category))
    article = Article.objects.get()
    check(row, supervisor, "knowledge_article.create", "knowledge_article", article)
    assert row.target_label == "东区停水"
    assert row.data["values"]["status"] == "draft"

    row = audited(lambda: edit(supervisor, article, title="东区计划停水"))
    check(row, supervisor, "knowledge_article.update", "knowledge_article", article)
    assert row.data == {"changes": {"title": ["东区停水", "东区计划停水"]}}

    row = audited(lambda: edit(supervisor, article, status=Article.Status.PUBLISHED))
    check(row, supervisor, "knowledge_article.publish", "knowledge_article", article)
    assert row.data == {"changes": {}}

    other = services.category_create(actor=supervisor, name="水质")
    row = audited(lambda: edit(supervisor, article, category=other))
    check(row, supervisor, "knowledge_article.move", "knowledge_article", article)
    assert row.data == {"changes": {"article_category": ["停水", "水质"]}}

    row = audited(lambda: edit(supervisor, article, status=Article.Status.DRAFT))
    check(row, supervisor, "knowledge_article.unpublish", "knowledge_article", article)

    first = article.revisions.get(number=1)
    row = audited(
        lambda: services.article_restore(
            actor=supervisor, article=article, revision=first, version=article.version
        )
    )
    check(row, supervisor, "knowledge_article.restore", "knowledge_article", article)
    assert row.data == {"restored_from": 1, "changes": {"title": ["东区计划停水", "东区停水"]}}

    pk = article.pk
    row = audited(lambda: services.article_delete(actor=supervisor, article=article))
    assert (row.actor, row.action, row.target_id) == (
        supervisor,
        "knowledge_article.delete",
        str(pk),
    )


def test_the_audit_row_names_a_changed_body_by_its_length_not_its_text(
    supervisor: User, category: Category
) -> None:
    article = write(supervisor, category)
    long = len(article.body_text)
    row = audited(lambda: edit(supervisor, article, body="<p>东区恢复供水。</p>"))
    short = len(article.body_text)
    assert short < long
    assert row.data == {"changes": {"body_length": [long, short]}}
    row = audited(lambda: edit(supervisor, article, body="<p>西区恢复供水。</p>"))
    assert row.data == {"changes": {"body_length": [short, short]}}
    assert "供水" not in str(AuditEvent.objects.filter(action__startswith="knowledge_").values())


def test_a_refused_save_of_an_article_writes_no_audit_row(
    supervisor: User, category: Category
) -> None:
    article = write(supervisor, category)
    not_audited(lambda: edit(supervisor, article, title="  "), ValidationError)
    not_audited(
        lambda: services.article_update(
            actor=supervisor,
            article=article,
            version=article.version + 5,
            title="新标题",
            body=BODY,
            category=category,
        ),
        ConflictError,
    )
    before = AuditEvent.objects.count()
    edit(supervisor, article)  # saved again unchanged
    assert AuditEvent.objects.count() == before


# --- attachments ------------------------------------------------------------------------------


def test_attachment_uploads_and_deletions_are_audited(
    supervisor: User, category: Category, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    article = write(supervisor, category)
    upload = SimpleUploadedFile("示意图.png", PNG, content_type="image/png")
    row = audited(lambda: services.attachment_add(actor=supervisor, article=article, file=upload))
    attachment = Attachment.objects.get()
    check(row, supervisor, "knowledge_attachment.upload", "knowledge_attachment", attachment)
    assert row.target_label == "东区停水 / 示意图.png"
    assert row.data["values"]["article_id"] == article.pk
    fake = SimpleUploadedFile("x.png", b"<script>", content_type="image/png")
    not_audited(
        lambda: services.attachment_add(actor=supervisor, article=article, file=fake),
        ValidationError,
    )
    pk = attachment.pk
    row = audited(lambda: services.attachment_delete(actor=supervisor, attachment=attachment))
    assert (row.action, row.target_id) == ("knowledge_attachment.delete", str(pk))


def test_deleting_an_article_writes_one_row_naming_its_attachments(
    supervisor: User, category: Category, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    article = write(supervisor, category)
    services.attachment_add(
        actor=supervisor,
        article=article,
        file=SimpleUploadedFile("a.png", PNG, content_type="image/png"),
    )
    row = audited(lambda: services.article_delete(actor=supervisor, article=article))
    assert row.action == "knowledge_article.delete"
    assert row.data["values"]["attachments"] == ["a.png"]


# --- through the pages, and on the audit log page ---------------------------------------------


def test_the_pages_audit_with_the_address_and_the_log_shows_chinese_labels(
    supervisor: User, category: Category, admin_client: Client
) -> None:
    client = client_for(supervisor)
    row = audited(
        lambda: client.post(
            reverse("knowledge:article_create"),
            {
                "title": "东区停水",
                "category": str(category.pk),
                "keywords": "停水",
                "body": BODY,
                "status": "draft",
            },
        )
    )
    assert row.action == "knowledge_article.create" and row.ip == "127.0.0.1"
    article = Article.objects.get()
    client.post(
        reverse("knowledge:article_edit", args=[article.pk]),
        {
            "version": str(article.version),
            "title": "东区计划停水",
            "category": str(category.pk),
            "keywords": "停水",
            "body": "<p>改期。</p>",
            "status": "published",
        },
    )
    client.post(reverse("knowledge:category_active", args=[category.pk]), {"active": "0"})
    page = admin_client.get("/system/audit/").content.decode()
    for label in ("创建知识文章", "发布知识文章", "停用知识分类"):
        assert f"<td>{label}</td>" in page, label
    assert "<b>标题</b>: 东区停水 → 东区计划停水" in page
    assert "<b>正文字数</b>: " in page
    filtered = admin_client.get("/system/audit/", {"action": "knowledge_article.publish"})
    rows = filtered.content.decode().split('<table class="list">')[1]
    assert "<td>发布知识文章</td>" in rows and "<td>创建知识文章</td>" not in rows
