"""Articles: sanitised bodies, drafts for managers only, permissions, concurrent edits,
revision history and restore, attachments."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.core.concurrency import ConflictError
from aqualine.knowledge import selectors, services
from aqualine.knowledge.models import Article, ArticleRevision, Attachment, Category
from aqualine.knowledge.sanitize import sanitize_html

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def write(actor: User, category: Category, **fields: object) -> Article:
    values: dict[str, object] = {
        "title": "停水通知",
        "body": "<p>明日停水</p>",
        "status": Article.Status.PUBLISHED,
    }
    values.update(fields)
    return services.article_create(actor=actor, category=category, **values)  # type: ignore[arg-type]


def edit(actor: User, article: Article, version: int, **fields: object) -> Article:
    values: dict[str, object] = {
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "keywords": article.keyword_list,
        "status": article.status,
    }
    values.update(fields)
    return services.article_update(actor=actor, article=article, version=version, **values)  # type: ignore[arg-type]


def form_data(article: Article | None = None, **fields: str) -> dict[str, str]:
    data = {
        "title": article.title if article else "停水通知",
        "category": str(article.category_id) if article else "",
        "keywords": "停水、计划停水",
        "body": article.body if article else "<p>明日停水</p>",
        "status": "published",
    }
    if article is not None:
        data["version"] = str(article.version)
    data.update(fields)
    return data


# --- sanitising -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script>",
        '<img src="/knowledge/attachments/1/" onerror="alert(1)">',
        '<p onclick="alert(1)" style="position:fixed">x</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt&#58;alert(1)">x</a>',
        "<svg><script>alert(1)</script></svg>",
        '<iframe src="https://evil.example/"></iframe>',
        "<style>body{display:none}</style>",
        '<img src="https://evil.example/track.png">',
        '<img src="data:image/png;base64,AAAA">',
        '<form action="/x"><input name="a"></form>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    ],
)
def test_the_sanitiser_strips_active_content(dirty: str) -> None:
    clean = sanitize_html(dirty).lower()
    for bad in ("<script", "onerror", "onclick", "style", "javascript", "<svg", "<iframe",
                "evil.example", "data:", "<form", "<input", "<math"):  # fmt: skip
        assert bad not in clean, (dirty, clean)


def test_the_sanitiser_keeps_tables_lists_links_and_our_images() -> None:
    body = (
        "<h2>标题</h2><p><b>粗</b><i>斜</i></p><ul><li>一</li></ul><ol><li>二</li></ol>"
        '<table><tr><th colspan="2">表头</th></tr><tr><td>甲</td><td>乙</td></tr></table>'
        '<a href="https://www.example.cn/notice">通知</a>'
        '<img src="/knowledge/attachments/12/" alt="示意图">'
    )
    clean = sanitize_html(body)
    for kept in ("<h2>", "<b>", "<i>", "<ul>", "<ol>", '<th colspan="2">', "<td>甲</td>"):
        assert kept in clean
    assert '<a href="https://www.example.cn/notice" rel="noopener noreferrer">' in clean
    assert '<img src="/knowledge/attachments/12/" alt="示意图">' in clean


def test_a_saved_body_is_sanitised(supervisor: User, category: Category) -> None:
    article = write(
        supervisor, category, body='<p onmouseover="steal()">停水<script>x()</script></p>'
    )
    article.refresh_from_db()
    assert article.body == "<p>停水</p>"
    assert article.body_text == "停水"
    assert article.revisions.get().body == "<p>停水</p>"
    page = client_for(supervisor).get(reverse("knowledge:article_detail", args=[article.pk]))
    assert "steal()" not in page.content.decode()


# --- drafts and permissions -------------------------------------------------------------------


def test_drafts_are_hidden_from_agents(supervisor: User, agent: User, category: Category) -> None:
    draft = write(supervisor, category, title="停水草稿", status=Article.Status.DRAFT)
    published = write(supervisor, category, title="停水公告")
    agent_client = client_for(agent)
    assert agent_client.get(reverse("knowledge:article_detail", args=[draft.pk])).status_code == 404
    assert (
        agent_client.get(reverse("knowledge:article_detail", args=[published.pk])).status_code
        == 200
    )
    found = [h.pk for h in selectors.article_search(user=agent, query="停水").hits]
    assert found == [published.pk]
    index = agent_client.get(reverse("knowledge:index")).content.decode()
    assert "停水公告" in index and "停水草稿" not in index
    json = agent_client.get(reverse("knowledge:search_json"), {"q": "草稿"}).json()
    assert json["results"] == []
    # managers see and find drafts
    manager_found = [h.pk for h in selectors.article_search(user=supervisor, query="停水").hits]
    assert set(manager_found) == {draft.pk, published.pk}
    assert (
        client_for(supervisor).get(reverse("knowledge:article_detail", args=[draft.pk])).status_code
        == 200
    )


def test_agents_read_but_do_not_write(agent: User, supervisor: User, category: Category) -> None:
    article = write(supervisor, category)
    client = client_for(agent)
    assert client.get(reverse("knowledge:index")).status_code == 200
    for name in ("article_edit", "article_history"):
        assert client.get(reverse(f"knowledge:{name}", args=[article.pk])).status_code == 403
    assert client.get(reverse("knowledge:article_create")).status_code == 403
    assert client.post(reverse("knowledge:article_delete", args=[article.pk])).status_code == 403
    assert client.get(reverse("knowledge:category_list")).status_code == 403
    with pytest.raises(PermissionDenied):
        services.article_create(actor=agent, title="x", body="", category=category)
    assert Article.objects.filter(pk=article.pk).exists()


def test_staff_without_a_role_cannot_read(
    outsider: User, supervisor: User, category: Category
) -> None:
    article = write(supervisor, category)
    client = client_for(outsider)
    assert client.get(reverse("knowledge:index")).status_code == 403
    assert client.get(reverse("knowledge:article_detail", args=[article.pk])).status_code == 403


def test_the_menu_offers_the_knowledge_base(agent: User, supervisor: User) -> None:
    agent_page = client_for(agent).get("/").content.decode()
    assert reverse("knowledge:index") in agent_page
    assert reverse("knowledge:category_list") not in agent_page
    assert reverse("knowledge:category_list") in client_for(supervisor).get("/").content.decode()


# --- writing through the pages ----------------------------------------------------------------


def test_a_manager_creates_edits_and_deletes_an_article(
    supervisor: User, category: Category
) -> None:
    client = client_for(supervisor)
    response = client.post(
        reverse("knowledge:article_create"), form_data(category=str(category.pk))
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert article.keyword_list == ["停水", "计划停水"]
    assert article.created_by == supervisor and article.status == "published"
    response = client.post(
        reverse("knowledge:article_edit", args=[article.pk]),
        form_data(article, title="停水通知（修订）"),
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "停水通知（修订）" and article.version == 2
    assert client.post(reverse("knowledge:article_delete", args=[article.pk])).status_code == 302
    assert not Article.objects.exists() and not ArticleRevision.objects.exists()


def test_a_retired_category_takes_no_new_articles(supervisor: User, category: Category) -> None:
    services.category_set_active(actor=supervisor, category=category, active=False)
    with pytest.raises(ValidationError):
        write(supervisor, category)
    response = client_for(supervisor).post(
        reverse("knowledge:article_create"), form_data(category=str(category.pk))
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        message = translation.gettext("This category is no longer in use.")
    assert message in response.content.decode()
    assert not Article.objects.exists()


# --- concurrent edits -------------------------------------------------------------------------


def test_the_second_of_two_concurrent_saves_is_refused(
    supervisor: User, second_supervisor: User, category: Category
) -> None:
    article = write(supervisor, category)
    opened = article.version
    edit(supervisor, Article.objects.get(pk=article.pk), opened, body="<p>王班长的修改</p>")
    with pytest.raises(ConflictError):
        edit(second_supervisor, Article.objects.get(pk=article.pk), opened, body="<p>陈班长</p>")
    article.refresh_from_db()
    assert article.body == "<p>王班长的修改</p>"
    assert article.revisions.count() == 2


def test_the_second_saver_keeps_their_text_and_sees_the_conflict(
    supervisor: User, second_supervisor: User, category: Category
) -> None:
    article = write(supervisor, category)
    first, second = client_for(supervisor), client_for(second_supervisor)
    stale = form_data(article)
    first.post(
        reverse("knowledge:article_edit", args=[article.pk]),
        {**stale, "body": "<p>王班长：停水时间改为明天</p>"},
    )
    response = second.post(
        reverse("knowledge:article_edit", args=[article.pk]),
        {**stale, "body": "<p>陈班长：增加了储水建议</p>"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "2001 王班长" in page  # who saved in between
    assert "陈班长：增加了储水建议" in page  # their own text is still in the form
    assert "王班长：停水时间改为明天" in page  # and the diff shows the other version
    article.refresh_from_db()
    assert article.body == "<p>王班长：停水时间改为明天</p>"  # nothing overwritten
    # Saving again after seeing the conflict replaces it knowingly; the history keeps both.
    form = response.context["form"]
    assert form["version"].value() == str(article.version)
    again = second.post(
        reverse("knowledge:article_edit", args=[article.pk]),
        {**stale, "version": form["version"].value(), "body": "<p>陈班长：增加了储水建议</p>"},
    )
    assert again.status_code == 302
    article.refresh_from_db()
    assert article.body == "<p>陈班长：增加了储水建议</p>"
    assert [r.body for r in article.revisions.order_by("number")] == [
        "<p>明日停水</p>",
        "<p>王班长：停水时间改为明天</p>",
        "<p>陈班长：增加了储水建议</p>",
    ]


# --- history ----------------------------------------------------------------------------------


def test_every_save_keeps_a_revision_and_an_old_one_can_be_restored(
    supervisor: User, second_supervisor: User, category: Category
) -> None:
    article = write(supervisor, category, title="水表更换", body="<p>第一版</p>", keywords=["换表"])
    edit(second_supervisor, article, 1, title="水表更换流程", body="<p>第二版</p>")
    revisions = list(article.revisions.order_by("number"))
    assert [(r.number, r.title, r.author) for r in revisions] == [
        (1, "水表更换", supervisor),
        (2, "水表更换流程", second_supervisor),
    ]
    client = client_for(supervisor)
    old = client.get(reverse("knowledge:revision_detail", args=[revisions[0].pk]))
    assert "第一版" in old.content.decode()
    diff = client.get(reverse("knowledge:revision_diff", args=[revisions[1].pk])).content.decode()
    assert "<del>一</del><ins>二</ins>" in diff
    assert "<ins>流程</ins>" in diff
    # restore needs the version the page showed: a stale one is refused
    stale = client.post(
        reverse("knowledge:revision_restore", args=[revisions[0].pk]), {"version": "1"}
    )
    assert stale.status_code == 302
    article.refresh_from_db()
    assert article.version == 2 and article.body == "<p>第二版</p>"
    client.post(reverse("knowledge:revision_restore", args=[revisions[0].pk]), {"version": "2"})
    article.refresh_from_db()
    assert (article.version, article.title, article.body) == (3, "水表更换", "<p>第一版</p>")
    newest = article.revisions.get(number=3)
    assert newest.restored_from == 1 and newest.author == supervisor
    # the restored text is what search finds
    assert [h.pk for h in selectors.article_search(user=supervisor, query="第一版").hits] == [
        article.pk
    ]
    history = client.get(reverse("knowledge:article_history", args=[article.pk])).content.decode()
    assert "#3" in history and "#1" in history


def test_revisions_of_another_article_cannot_be_restored(
    supervisor: User, category: Category
) -> None:
    one = write(supervisor, category, title="一")
    other = write(supervisor, category, title="二")
    with pytest.raises(PermissionDenied):
        services.article_restore(
            actor=supervisor, article=one, revision=other.revisions.get(), version=1
        )


# --- attachments ------------------------------------------------------------------------------


def test_attachments_are_checked_and_served_only_to_readers(
    supervisor: User,
    agent: User,
    outsider: User,
    category: Category,
    settings: object,
    tmp_path: object,
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    article = write(supervisor, category)
    draft = write(supervisor, category, title="草稿", status=Article.Status.DRAFT)
    manager = client_for(supervisor)
    upload = SimpleUploadedFile("示意图.png", PNG, content_type="image/png")
    response = manager.post(
        reverse("knowledge:attachment_upload", args=[article.pk]), {"file": upload}
    )
    assert response.status_code == 302
    picture = Attachment.objects.get()
    fake = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    manager.post(reverse("knowledge:attachment_upload", args=[article.pk]), {"file": fake})
    html_file = SimpleUploadedFile("x.html", b"<html></html>", content_type="text/html")
    manager.post(reverse("knowledge:attachment_upload", args=[article.pk]), {"file": html_file})
    assert Attachment.objects.count() == 1
    url = reverse("knowledge:attachment", args=[picture.pk])
    served = client_for(agent).get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG  # type: ignore[attr-defined]
    assert client_for(outsider).get(url).status_code == 403
    # a picture of a draft is for managers only
    services.attachment_add(
        actor=supervisor,
        article=draft,
        file=SimpleUploadedFile("d.png", PNG, content_type="image/png"),
    )
    draft_url = reverse("knowledge:attachment", args=[Attachment.objects.get(article=draft).pk])
    assert client_for(agent).get(draft_url).status_code == 404
    assert manager.get(draft_url).status_code == 200
    # the picture goes into the text by its own URL, which the sanitiser keeps
    edited = edit(supervisor, article, article.version, body=f'<p>见图</p><img src="{url}">')
    assert f'<img src="{url}">' in edited.body


def test_an_oversized_attachment_is_refused(supervisor: User, category: Category) -> None:
    article = write(supervisor, category)
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")
    with pytest.raises(ValidationError):
        services.attachment_add(actor=supervisor, article=article, file=big)
