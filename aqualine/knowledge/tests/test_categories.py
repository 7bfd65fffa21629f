"""The category tree: create, rename, move (never under itself), reorder, retire, delete when
empty."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.core.concurrency import ConflictError
from aqualine.knowledge import selectors, services
from aqualine.knowledge.models import Article, Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(supervisor: User) -> dict[str, Category]:
    """缴费 ⊃ 水价 ⊃ 阶梯水价; 水表 at the top."""
    fees = services.category_create(actor=supervisor, name="缴费")
    prices = services.category_create(actor=supervisor, name="水价", parent=fees)
    tiers = services.category_create(actor=supervisor, name="阶梯水价", parent=prices)
    meters = services.category_create(actor=supervisor, name="水表")
    return {"fees": fees, "prices": prices, "tiers": tiers, "meters": meters}


def names(user: User) -> list[tuple[int, str]]:
    return [
        (n.depth, n.category.name)
        for n in selectors.flatten(selectors.category_tree(user=user, include_inactive=True))
    ]


def move(actor: User, category: Category, parent: Category | None, name: str = "") -> Category:
    category.refresh_from_db()
    return services.category_update(
        actor=actor,
        category=category,
        version=category.version,
        name=name or category.name,
        parent=parent,
    )


def test_the_tree_is_built_in_order(tree: dict[str, Category], supervisor: User) -> None:
    assert names(supervisor) == [(0, "缴费"), (1, "水价"), (2, "阶梯水价"), (0, "水表")]


def test_a_category_cannot_move_under_itself_or_its_descendants(
    tree: dict[str, Category], supervisor: User
) -> None:
    for new_parent in ("fees", "prices", "tiers"):
        with pytest.raises(ValidationError) as error:
            move(supervisor, tree["fees"], tree[new_parent])
        assert "parent" in error.value.message_dict
    assert names(supervisor) == [(0, "缴费"), (1, "水价"), (2, "阶梯水价"), (0, "水表")]


def test_a_move_through_the_page_under_a_descendant_is_refused(
    tree: dict[str, Category], supervisor: User
) -> None:
    fees = tree["fees"]
    response = client_for(supervisor).post(
        reverse("knowledge:category_edit", args=[fees.pk]),
        {"version": fees.version, "name": "缴费", "parent": tree["tiers"].pk},
    )
    assert response.status_code == 200
    fees.refresh_from_db()
    assert fees.parent is None


def test_a_category_moves_with_its_subtree_and_is_renamed(
    tree: dict[str, Category], supervisor: User
) -> None:
    move(supervisor, tree["prices"], tree["meters"], name="水价标准")
    assert names(supervisor) == [(0, "缴费"), (0, "水表"), (1, "水价标准"), (2, "阶梯水价")]
    move(supervisor, tree["prices"], None)
    assert names(supervisor)[-2:] == [(0, "水价标准"), (1, "阶梯水价")]


def test_sibling_names_are_unique(tree: dict[str, Category], supervisor: User) -> None:
    with pytest.raises(ValidationError):
        services.category_create(actor=supervisor, name="水价", parent=tree["fees"])
    with pytest.raises(ValidationError):
        move(supervisor, tree["meters"], None, name="缴费")
    services.category_create(actor=supervisor, name="水价")  # same name elsewhere is fine


def test_a_stale_edit_of_a_category_is_refused(tree: dict[str, Category], supervisor: User) -> None:
    stale = Category.objects.get(pk=tree["meters"].pk)
    move(supervisor, tree["meters"], None, name="计量")
    with pytest.raises(ConflictError):
        services.category_update(
            actor=supervisor, category=stale, version=stale.version, name="水表", parent=None
        )


def test_siblings_are_reordered(tree: dict[str, Category], supervisor: User) -> None:
    client = client_for(supervisor)
    client.post(reverse("knowledge:category_move", args=[tree["meters"].pk]), {"direction": "up"})
    assert [n for n in names(supervisor) if n[0] == 0] == [(0, "水表"), (0, "缴费")]
    client.post(reverse("knowledge:category_move", args=[tree["meters"].pk]), {"direction": "up"})
    assert [n for n in names(supervisor) if n[0] == 0] == [(0, "水表"), (0, "缴费")]
    client.post(reverse("knowledge:category_move", args=[tree["meters"].pk]), {"direction": "down"})
    assert [n for n in names(supervisor) if n[0] == 0] == [(0, "缴费"), (0, "水表")]


def test_a_retired_category_leaves_the_browse_tree(
    tree: dict[str, Category], supervisor: User, agent: User
) -> None:
    article = services.article_create(
        actor=supervisor,
        title="阶梯水价标准",
        body="<p>三档</p>",
        category=tree["tiers"],
        status=Article.Status.PUBLISHED,
    )
    client_for(supervisor).post(
        reverse("knowledge:category_active", args=[tree["prices"].pk]), {"active": "0"}
    )
    visible = [n.category.name for n in selectors.flatten(selectors.category_tree(user=agent))]
    assert visible == ["缴费", "水表"]
    # its articles are still found
    assert [h.pk for h in selectors.article_search(user=agent, query="水价").hits] == [article.pk]
    client_for(supervisor).post(
        reverse("knowledge:category_active", args=[tree["prices"].pk]), {"active": "1"}
    )
    assert len(selectors.flatten(selectors.category_tree(user=agent))) == 4


def test_only_an_empty_category_is_deleted(tree: dict[str, Category], supervisor: User) -> None:
    with pytest.raises(ValidationError):
        services.category_delete(actor=supervisor, category=tree["prices"])  # has a child
    services.article_create(
        actor=supervisor, title="草稿", body="", category=tree["tiers"]
    )  # a draft counts too
    response = client_for(supervisor).post(
        reverse("knowledge:category_delete", args=[tree["tiers"].pk])
    )
    assert response.status_code == 302
    assert Category.objects.filter(pk=tree["tiers"].pk).exists()
    client_for(supervisor).post(reverse("knowledge:category_delete", args=[tree["meters"].pk]))
    assert not Category.objects.filter(pk=tree["meters"].pk).exists()


def test_agents_cannot_change_the_tree(tree: dict[str, Category], agent: User) -> None:
    with pytest.raises(PermissionDenied):
        services.category_create(actor=agent, name="新分类")
    client = client_for(agent)
    assert client.post(reverse("knowledge:category_create"), {"name": "新分类"}).status_code == 403
    assert (
        client.post(reverse("knowledge:category_delete", args=[tree["meters"].pk])).status_code
        == 403
    )
    assert Category.objects.count() == 4


def test_the_category_pages_render(tree: dict[str, Category], supervisor: User) -> None:
    client = client_for(supervisor)
    page = client.get(reverse("knowledge:category_list")).content.decode()
    assert "阶梯水价" in page
    edit_page = client.get(reverse("knowledge:category_edit", args=[tree["fees"].pk]))
    options = edit_page.content.decode()
    # its own subtree is not offered as a new parent
    assert f'value="{tree["prices"].pk}"' not in options
    assert f'value="{tree["meters"].pk}"' in options
    response = client.post(
        reverse("knowledge:category_create"), {"name": "发票", "parent": tree["fees"].pk}
    )
    assert response.status_code == 302
    assert Category.objects.get(name="发票").parent == tree["fees"]


def test_the_tree_has_a_depth_limit(tree: dict[str, Category], supervisor: User) -> None:
    parent = tree["tiers"]  # level 3
    parent = services.category_create(actor=supervisor, name="四", parent=parent)
    parent = services.category_create(actor=supervisor, name="五", parent=parent)
    with pytest.raises(ValidationError) as error:
        services.category_create(actor=supervisor, name="六", parent=parent)
    assert "5" in str(error.value.message_dict["parent"])
    with pytest.raises(ValidationError):
        move(supervisor, tree["fees"], tree["meters"])  # 5 levels under a top one: 6
