"""Knowledge-base search latency: p50/p95 of Chinese queries over 10,000 generated articles.

Runs against the configured database, migrating it and generating the articles first when it
holds fewer (they are indexed with the same function the services use). Use a database of its
own, e.g.

    AQUALINE_VAR_DIR=$PWD/var/bench-kb python bench/knowledge_search.py
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/aqualine_kb_bench
    python bench/knowledge_search.py

Prints one line per query (an agent: published articles only) and a summary; the goal is p95
under 50 ms. It asserts nothing (speed is measured here, not tested).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aqualine.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from aqualine.knowledge import search, selectors  # noqa: E402
from aqualine.knowledge.demo import ARTICLES  # noqa: E402
from aqualine.knowledge.models import Article, Category, SearchTerm  # noqa: E402
from aqualine.knowledge.sanitize import html_to_text  # noqa: E402

QUERIES = [
    "停水",
    "停水通知",
    "水表 更换",
    "水费 缴纳",
    "水质发黄",
    "管道漏水",
    "阶梯水价",
    "过户",
    "开户",
    "销户",
    "发票",
    "电子发票 补开",
    "二次供水 水压",
    "IC卡",
    "滞纳金 减免",
    "幸福小区 停水",
    "用户",  # in almost every article
    "用户 水费 办理",
    "冻裂 保温",
    "投诉 回访",
]
SHORT_QUERIES = ["水", "表 卡"]  # single characters: the LIKE fallback

AREAS = ["东城", "西城", "开发区", "高新区", "滨江", "北湖", "南山", "老城区", "新港", "城南"]
ESTATES = ["幸福小区", "阳光花园", "金色家园", "翠湖苑", "和平里", "锦绣华庭", "望江新村"]
TOPICS = [
    ("停水通知", ["计划停水", "停水", "恢复供水"]),
    ("水表更换", ["换表", "水表", "到期轮换"]),
    ("水费缴纳", ["缴费", "微信缴费", "水费"]),
    ("水质发黄", ["黄水", "水质", "浑浊"]),
    ("管道漏水", ["漏水", "暗漏", "维修"]),
    ("阶梯水价", ["水价", "阶梯", "用水量"]),
    ("过户办理", ["过户", "更名"]),
    ("开户报装", ["开户", "报装", "新装"]),
    ("销户拆表", ["销户", "拆表"]),
    ("发票开具", ["发票", "电子发票"]),
    ("水压偏低", ["水压低", "二次供水", "加压泵房"]),
    ("水表冻裂", ["冻裂", "保温", "防冻"]),
    ("投诉处理", ["投诉", "回访", "满意度"]),
    ("滞纳金", ["滞纳金", "违约金", "减免"]),
    ("智能水表", ["IC卡", "远传", "电池"]),
]
SUFFIXES = ["办理指南", "常见问题", "答复口径", "处理流程", "政策说明", "注意事项", "操作规程"]
# Sentences of the kind the articles are made of; {a} an area, {e} an estate.
SENTENCES = list(
    (
        "用户来电反映{a}{e}的问题时，坐席应先核实用户号和地址，再查询该片区是否有停水通知。",
        "如需上门处理，受理后派单至相关部门，并告知用户预计处理时间。",
        "办理时需携带身份证、房产证明和用户号，到就近营业厅或通过微信公众号提交申请。",
        "水费可通过微信、支付宝、银行代扣或营业厅缴纳，缴费后一般实时到账。",
        "水表使用满六年应进行轮换，因用户原因损坏的按规定收取材料费。",
        "居民生活用水实行阶梯水价，年度用水量超过第一阶梯的部分按第二阶梯价格计收。",
        "冬季气温较低时，请提醒用户做好户外水表和管道的保温措施，防止冻裂。",
        "{a}管网改造期间可能出现短时水压偏低，二次供水小区请联系物业检查加压设备。",
        "恢复供水后初期水质可能发黄或浑浊，放水几分钟即可恢复正常。",
        "用户对处理结果不满意的，可申请复核，回访员在办结后回访满意度。",
        "如遇路面冒水、爆管等紧急情况，按紧急工单处理，抢修人员两小时内到达现场。",
        "电子发票可在公众号我的账单中下载，单位用户需要专用发票的请到营业厅办理。",
        "过户前须结清原户名下的全部水费及违约金，新户主携带不动产权证办理。",
        "智能水表每日自动上传读数，IC卡水表需先充值再插卡，电量低时派单更换电池。",
        "用户信息变更需核实户主身份，修改联系电话后工单按新号码关联。",
        "{e}属于{a}供水片区，由该片区维修班组负责日常巡检和维护。",
    )
)


class Reader:
    """An agent: reads published articles only."""

    def has_perm(self, perm: str) -> bool:
        return perm == "knowledge.view_articles"


def generate(total: int) -> None:
    existing = Article.objects.count()
    if existing >= total:
        return
    rng = random.Random(96000)  # noqa: S311 (test data, not security)
    categories = [
        Category.objects.get_or_create(name=name, parent=None)[0] for name, _words in TOPICS
    ]
    started = time.perf_counter()
    now = timezone.now()
    batch = 500
    samples = [(s.title, s.keywords, s.body) for s in ARTICLES]
    for start in range(existing, total, batch):
        articles = []
        for number in range(start, min(total, start + batch)):
            if number < len(samples):
                title, keywords, body = samples[number]
                category = categories[number % len(categories)]
            else:
                index = rng.randrange(len(TOPICS))
                topic, words = TOPICS[index]
                area, estate = rng.choice(AREAS), rng.choice(ESTATES)
                title = f"{area}{topic}{rng.choice(SUFFIXES)}（{number}）"
                keywords = tuple(rng.sample(words, k=min(2, len(words))))
                paragraphs = []
                for _p in range(rng.randint(3, 8)):
                    sentences = rng.sample(SENTENCES, k=rng.randint(2, 4))
                    paragraphs.append(
                        "<p>" + "".join(s.format(a=area, e=estate) for s in sentences) + "</p>"
                    )
                body = "".join(paragraphs)
                category = categories[index]
            articles.append(
                Article(
                    title=title,
                    category=category,
                    body=body,
                    body_text=html_to_text(body),
                    keywords=",".join(keywords),
                    status=(
                        Article.Status.DRAFT if number % 20 == 19 else Article.Status.PUBLISHED
                    ),
                    created_at=now,
                    updated_at=now,
                )
            )
        with transaction.atomic():
            Article.objects.bulk_create(articles)
            terms: list[SearchTerm] = []
            for article in articles:
                weights = search.document_terms(
                    title=article.title, keywords=article.keyword_list, body_text=article.body_text
                )
                published = article.status == Article.Status.PUBLISHED
                terms.extend(
                    SearchTerm(article=article, term=t, weight=w, published=published)
                    for t, w in weights.items()
                )
            SearchTerm.objects.bulk_create(terms, batch_size=2000)
        print(f"  generated {start + len(articles)} articles", end="\r", flush=True)
    print(f"  generated {total - existing} articles in {time.perf_counter() - started:.0f} s")


def prepare() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does soon after a bulk load: planner statistics, and the
            # visibility map that lets the search read the index alone (an index-only scan).
            cursor.execute("VACUUM ANALYZE knowledge_searchterm, knowledge_article")
        else:
            cursor.execute("ANALYZE")


def measure(query: str, rounds: int, reader: Reader) -> tuple[list[float], int]:
    selectors.article_search(user=reader, query=query)  # warm up
    times = []
    hits = 0
    for _round in range(rounds):
        started = time.perf_counter()
        result = selectors.article_search(user=reader, query=query)
        times.append((time.perf_counter() - started) * 1000)
        hits = len(result.hits)
    return times, hits


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    generate(args.articles)
    prepare()
    print(
        f"{connection.vendor}: {Article.objects.count()} articles, "
        f"{SearchTerm.objects.count()} index rows"
    )
    reader = Reader()
    everything: list[float] = []
    for query in QUERIES:
        times, hits = measure(query, args.rounds, reader)
        everything.extend(times)
        print(
            f"  {query:16s} hits={hits:3d} p50={statistics.median(times):6.2f} ms "
            f"p95={p95(times):6.2f} ms"
        )
    print(
        f"all indexed queries: n={len(everything)} p50={statistics.median(everything):.2f} ms "
        f"p95={p95(everything):.2f} ms (goal: p95 < 50 ms)"
    )
    for query in SHORT_QUERIES:
        times, hits = measure(query, max(5, args.rounds // 3), reader)
        print(
            f"  fallback {query!r:8s} hits={hits:3d} p50={statistics.median(times):6.2f} ms "
            f"p95={p95(times):6.2f} ms"
        )


if __name__ == "__main__":
    main()
