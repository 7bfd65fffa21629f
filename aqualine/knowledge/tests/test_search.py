"""Chinese search: relevance on the demo set (run on SQLite and, with DATABASE_URL, PostgreSQL),
highlighting that escapes everything else, and the JSON endpoint for the agent desktop."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.knowledge import search, selectors, services
from aqualine.knowledge.models import Article, SearchTerm

pytestmark = pytest.mark.django_db

# query → the article that must come first
TOP_HIT = [
    ("停水", "停水通知查询与答复口径"),
    ("停水通知", "停水通知查询与答复口径"),
    ("水表 更换", "水表更换的条件与办理流程"),
    ("更换 水表", "水表更换的条件与办理流程"),
    ("换表", "水表更换的条件与办理流程"),
    ("水费 缴纳", "水费缴纳方式一览"),
    ("微信缴费", "水费缴纳方式一览"),
    ("水质发黄", "自来水发黄、浑浊的原因与处理"),
    ("发黄", "自来水发黄、浑浊的原因与处理"),
    ("黄水", "自来水发黄、浑浊的原因与处理"),
    ("管道漏水", "室内管道漏水的判断与处理"),
    ("阶梯水价", "阶梯水价标准与计算方法"),
    ("过户", "用水户过户办理"),
    ("更名", "用水户过户办理"),
    ("开户", "新装用水（开户）办理指南"),
    ("销户", "销户与拆表办理"),
    ("发票", "水费发票的开具与补开"),
    ("电子发票", "水费发票的开具与补开"),
    ("冻裂", "水表冻裂的预防与报修"),
    ("水压低", "高层住户水压低的原因与二次供水"),
    ("滞纳金", "滞纳金（违约金）的计算与减免"),
    ("验表", "水表校验（验表）申请"),
    ("余氯", "自来水有异味（漂白粉味、霉味）的解释"),
    ("低保", "低保户、特困家庭水费减免政策"),
    ("爆管 抢修时限", "路面冒水、爆管的报修与抢修时限"),
    ("营业厅 地址", "营业厅地址与办公时间"),
    ("二次供水", "高层住户水压低的原因与二次供水"),
    ("投诉", "来电人投诉的受理与升级流程"),
    ("IC卡", "智能水表（远传水表）常见问题"),
    ("ＩＣ卡", "智能水表（远传水表）常见问题"),  # full-width letters, as Chinese IMEs type them
    ("12345", "来电人投诉的受理与升级流程"),
    ("代扣 取消", "银行代扣的办理与取消"),
]


def titles(user: User, query: str) -> list[str]:
    return [h.title for h in selectors.article_search(user=user, query=query).hits]


@pytest.mark.parametrize(("query", "expected"), TOP_HIT)
def test_the_best_article_comes_first(
    query: str, expected: str, kb: dict[str, Article], agent: User
) -> None:
    found = titles(agent, query)
    assert found, f"{query!r} found nothing"
    assert found[0] == expected, f"{query!r}: {found[:5]}"


def test_title_and_keyword_hits_rank_above_body_hits(kb: dict[str, Article], agent: User) -> None:
    hits = selectors.article_search(user=agent, query="停水").hits
    in_title = [h.title for h in hits if "停水" in h.title]
    body_only = [
        h.title for h in hits if "停水" not in h.title and "停水" not in kb[h.title].keywords
    ]
    assert len(in_title) == 4 and body_only  # the demo set has both kinds
    order = [h.title for h in hits]
    assert max(order.index(t) for t in in_title) < min(order.index(t) for t in body_only)
    # the four outage articles in the title come first
    assert set(order[:4]) == set(in_title)


def test_every_term_must_match(kb: dict[str, Article], agent: User) -> None:
    assert titles(agent, "停水 发票") == []
    both = titles(agent, "水表 冻裂")
    assert both == ["水表冻裂的预防与报修"]


def test_bigrams_present_but_not_the_phrase_is_no_match(supervisor: User, agent: User) -> None:
    category = services.category_create(actor=supervisor, name="测试")
    # 表更 and 更换 and 水表 all occur, but never 水表更换 in one piece
    services.article_create(
        actor=supervisor,
        title="水表读数",
        body="<p>表更新了，请更换密码</p>",
        category=category,
        status=Article.Status.PUBLISHED,
    )
    assert titles(agent, "水表更换") == []
    assert titles(agent, "水表") == ["水表读数"]


def test_a_single_character_falls_back_to_a_scan(kb: dict[str, Article], agent: User) -> None:
    # Too short for the index: titles and keywords are scanned (银行卡 is a keyword there).
    assert titles(agent, "卡") == ["银行代扣的办理与取消"]
    # Beside an indexed term, a single character is checked in the text too.
    assert titles(agent, "智能 卡") == ["智能水表（远传水表）常见问题"]
    assert titles(agent, "鑫") == []


def test_the_index_follows_edits_and_deletes(kb: dict[str, Article], supervisor: User) -> None:
    article = kb["用水户过户办理"]
    services.article_update(
        actor=supervisor,
        article=article,
        version=article.version,
        title="用水户名称变更办理",
        body="<p>新户主携带证件办理更名手续。</p>",
        category=article.category,
        keywords=["更名"],
        status=Article.Status.PUBLISHED,
    )
    assert "用水户名称变更办理" not in titles(supervisor, "过户")
    assert titles(supervisor, "名称变更") == ["用水户名称变更办理"]
    services.article_delete(actor=supervisor, article=article)
    assert titles(supervisor, "名称变更") == []
    assert not SearchTerm.objects.filter(article_id=article.pk).exists()


def test_results_are_highlighted_and_everything_else_is_escaped(
    supervisor: User, agent: User
) -> None:
    category = services.category_create(actor=supervisor, name="测试")
    services.article_create(
        actor=supervisor,
        title="<b>停水</b> & 通知",
        body="<p>关于 &lt;script&gt;alert(1)&lt;/script&gt; 的停水说明</p>",
        category=category,
        status=Article.Status.PUBLISHED,
    )
    hit = selectors.article_search(user=agent, query="停水").hits[0]
    assert str(hit.title_html) == "&lt;b&gt;<mark>停水</mark>&lt;/b&gt; &amp; 通知"
    assert "<mark>停水</mark>" in hit.snippet_html
    assert "<script>" not in hit.snippet_html and "&lt;script&gt;" in hit.snippet_html


def test_the_search_page_shows_highlighted_results(kb: dict[str, Article], agent: User) -> None:
    page = client_for(agent).get(reverse("knowledge:index"), {"q": "停水"}).content.decode()
    assert "<mark>停水</mark>通知查询与答复口径" in page
    assert "<mark>停水</mark>检修" in page  # the snippet of an article that has it in the text


def test_the_json_search_for_the_agent_desktop(kb: dict[str, Article], agent: User) -> None:
    response = client_for(agent).get(reverse("knowledge:search_json"), {"q": "水表 更换"})
    assert response.status_code == 200
    data = response.json()
    assert data["terms"] == ["水表", "更换"]
    first = data["results"][0]
    assert first["title"] == "水表更换的条件与办理流程"
    assert first["title_html"] == "<mark>水表更换</mark>的条件与办理流程"  # adjacent: one mark
    assert first["url"] == reverse("knowledge:article_detail", args=[first["id"]])
    assert "<mark>" in first["snippet_html"]
    assert len(data["results"]) <= 10


def test_the_json_search_needs_the_permission(kb: dict[str, Article], outsider: User) -> None:
    response = client_for(outsider).get(reverse("knowledge:search_json"), {"q": "停水"})
    assert response.status_code == 403


def test_an_empty_query_finds_nothing(kb: dict[str, Article], agent: User) -> None:
    data = client_for(agent).get(reverse("knowledge:search_json"), {"q": "  "}).json()
    assert data["results"] == []


# --- the text side, without the database ----------------------------------------------------


def test_index_terms_are_bigrams_and_ascii_words() -> None:
    assert search.index_terms(search.normalize("水表更换 IC卡")) == {"水表", "表更", "更换", "ic"}
    assert search.index_terms("水") == set()


def test_normalising_keeps_positions() -> None:
    text = "ＩＣ卡　充值 İstanbul"
    assert len(search.normalize(text)) == len(text)
    assert search.normalize("ＡＢＣ") == "abc"


def test_a_query_drops_terms_another_term_contains() -> None:
    query = search.parse_query("水表  水表更换　水表")
    assert query.terms == ("水表更换",)
    assert set(query.keys) == {"水表", "表更", "更换"}


def test_snippet_centres_on_the_first_match() -> None:
    text = "甲" * 200 + "停水" + "乙" * 200
    snippet = str(search.snippet(text, ["停水"]))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>停水</mark>" in snippet
    assert len(snippet) < 120
