"""Reads of the accounts app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext

from aqualine.accounts.models import Department, Role, User


def staff_list(
    *,
    search: str = "",
    department: Department | None = None,
    role: Role | None = None,
    active: bool | None = True,
) -> QuerySet[User]:
    users = User.objects.select_related("department").prefetch_related("groups")
    if search:
        users = users.filter(
            Q(agent_id__icontains=search) | Q(name__icontains=search) | Q(phone__icontains=search)
        )
    if department is not None:
        users = users.filter(department=department)
    if role is not None:
        users = users.filter(groups=role)
    if active is not None:
        users = users.filter(is_active=active)
    return users.order_by("agent_id")


@dataclass(frozen=True)
class TreeRow:
    department: Department
    depth: int
    member_count: int


def department_tree(*, include_inactive: bool = True) -> list[TreeRow]:
    """Departments in tree order (parents before children, siblings by sort order)."""
    departments = Department.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True))
    ).order_by("sort_order", "name")
    if not include_inactive:
        departments = departments.filter(is_active=True)
    children: dict[int | None, list[Department]] = {}
    for d in departments:
        children.setdefault(d.parent_id, []).append(d)
    rows: list[TreeRow] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for d in children.get(parent_id, []):
            if d.pk in seen:
                continue
            seen.add(d.pk)
            rows.append(TreeRow(d, depth, d.member_count))  # type: ignore[attr-defined]
            walk(d.pk, depth + 1)

    walk(None, 0)
    # A department whose parent was filtered out is still listed, at the top level.
    for d in departments:
        if d.pk not in seen:
            seen.add(d.pk)
            rows.append(TreeRow(d, 0, d.member_count))
            walk(d.pk, 1)
    return rows


def role_list() -> QuerySet[Role, Any]:
    return Role.objects.annotate(
        holder_count=Count("user", filter=Q(user__is_active=True), distinct=True),
        permission_count=Count("permissions", distinct=True),
    ).order_by("sort_order", "name")


@dataclass(frozen=True)
class PermissionArea:
    label: str
    permissions: list[tuple[Permission, str]]


def business_permissions() -> QuerySet[Permission]:
    """The permissions that roles are made of: those our own apps declare."""
    labels = [c.label for c in apps.get_app_configs() if c.name.startswith("aqualine.")]
    return Permission.objects.filter(content_type__app_label__in=labels).select_related(
        "content_type"
    )


def permissions_by_area() -> list[PermissionArea]:
    """Permissions grouped by business area (the app), labelled in the user's language."""
    areas: dict[str, PermissionArea] = {}
    order: list[str] = []
    for config in apps.get_app_configs():
        if config.name.startswith("aqualine."):
            areas[config.label] = PermissionArea(str(config.verbose_name), [])
            order.append(config.label)
    for perm in business_permissions().order_by("content_type__app_label", "codename"):
        area = areas.get(perm.content_type.app_label)
        if area is not None:
            area.permissions.append((perm, gettext(perm.name)))
    return [areas[label] for label in order if areas[label].permissions]
