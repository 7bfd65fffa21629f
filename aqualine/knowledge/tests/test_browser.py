"""A real browser: a supervisor writes an article in the editor and publishes it; an agent
searches 停水 and sees it with the term highlighted."""

from __future__ import annotations

from typing import Any

import pytest

from aqualine.accounts.models import User
from aqualine.conftest import PASSWORD
from aqualine.knowledge import services
from aqualine.knowledge.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, base: str, agent_id: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(agent_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/")


def test_a_supervisor_writes_an_article_and_an_agent_finds_it(
    live_server: Any, new_page: Any, supervisor: User, agent: User
) -> None:
    category = services.category_create(actor=supervisor, name="停水与水压")
    base = live_server.url

    editor_page = new_page()
    log_in(editor_page, base, supervisor.agent_id)
    editor_page.locator("nav.sidebar a[href='/knowledge/']").click()
    editor_page.locator("a[href='/knowledge/articles/new/']").first.click()
    editor_page.locator("#id_title").fill("幸福小区计划停水安排")
    editor_page.locator("#id_category").select_option(str(category.pk))
    editor_page.locator("#id_keywords").fill("计划停水，幸福小区")
    editor = editor_page.locator(".kb-editor")
    assert editor.is_visible() and not editor_page.locator("#id_body").is_visible()
    editor.click()
    editor_page.keyboard.type("因主管道改造，幸福小区明日8:00至18:00停水。")
    editor_page.keyboard.press("Enter")
    editor_page.locator("[data-kb-toolbar] [data-cmd=bold]").click()
    editor_page.keyboard.type("请提前储水")
    editor_page.keyboard.press("Enter")
    editor_page.once("dialog", lambda dialog: dialog.accept("2x2"))  # rows × columns
    editor_page.locator("[data-kb-toolbar] [data-cmd=table]").click()
    editor.locator("table th").first.wait_for()
    editor_page.locator("input[name=status][value=published]").check()
    editor_page.locator("form.kb-form button[type=submit].primary").click()
    editor_page.wait_for_url(f"{base}/knowledge/articles/*/edit/")

    article = Article.objects.get()
    assert article.status == Article.Status.PUBLISHED
    assert "停水" in article.body_text and "<b>请提前储水</b>" in article.body
    assert article.body.count("<th>") == 2 and article.body.count("<td>") == 2
    assert article.keyword_list == ["计划停水", "幸福小区"]

    agent_page = new_page(viewport={"width": 390, "height": 844})  # a phone-sized screen
    log_in(agent_page, base, agent.agent_id)
    agent_page.goto(f"{base}/knowledge/")
    agent_page.locator("input[name=q]").fill("停水")
    agent_page.locator("input[name=q]").press("Enter")
    result = agent_page.locator("ol.kb-results li").first
    result.wait_for()
    assert result.locator("h3 mark").first.inner_text() == "停水"
    assert result.locator("h3").inner_text() == "幸福小区计划停水安排"
    assert "停水" in result.locator("p mark").first.inner_text()
    result.locator("h3 a").click()
    agent_page.locator("article.kb-body mark").first.wait_for()  # the term marked in the text
    assert "请提前储水" in agent_page.locator("article.kb-body b").inner_text()
    assert agent_page.locator("a[href$='/edit/']").count() == 0  # agents do not edit
