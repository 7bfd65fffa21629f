"""Reads of the announcements app, and the scope rules.

Scope rules (one place, used by the pages, the unread badge, the read receipts and the push):
- An announcement is *for* a user when it is addressed to everyone, or names the user among its
  people, or names the user's department or any department above it (a department includes its
  sub-departments, at any depth).
- A recipient must be an active staff member holding `notices.view_notices`.
- It is *current* while it is published (not withdrawn) and now lies in [valid_from,
  valid_until); with no valid_until it stays current until withdrawn.
- A recipient may open an announcement that is published and whose validity has begun (an
  expired one stays readable under "My announcements → expired"); the publisher and holders of
  `manage_notices` may open it always. Everyone else gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.notices.models import Announcement, AnnouncementRead, NoticeType
from aqualine.notices.permissions import NoticesPerm

AnnouncementPeople = Announcement.people.through
AnnouncementDepartments = Announcement.departments.through


class When:
    """Filter values of "My announcements"."""

    CURRENT = "current"
    EXPIRED = "expired"
    ALL = "all"
    CHOICES = (CURRENT, EXPIRED, ALL)


# --- departments -------------------------------------------------------------------------------


def covering_department_ids(user: Any) -> set[int]:
    """The user's department and every department above it: an announcement to any of them is
    for the user."""
    department = getattr(user, "department", None)
    if department is None:
        return set()
    return {department.pk, *(d.pk for d in department.ancestors())}


def subtree_ids(department_ids: set[int]) -> set[int]:
    """The given departments and every department below them."""
    if not department_ids:
        return set()
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found = set(department_ids)
    todo = list(department_ids)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


# --- who may do what ----------------------------------------------------------------------------


def may_manage(user: Any, announcement: Announcement) -> bool:
    """Edit, withdraw and see read receipts: its publisher (while they may publish) or a
    holder of `manage_notices`."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm(NoticesPerm.MANAGE_NOTICES):
        return True
    return announcement.publisher_id == user.pk and user.has_perm(NoticesPerm.PUBLISH_NOTICES)


def _scope_q(user: Any) -> Q:
    people = AnnouncementPeople.objects.filter(announcement_id=OuterRef("pk"), user_id=user.pk)
    q = Q(to_everyone=True) | Q(Exists(people))
    covering = covering_department_ids(user)
    if covering:
        departments = AnnouncementDepartments.objects.filter(
            announcement_id=OuterRef("pk"), department_id__in=covering
        )
        q |= Q(Exists(departments))
    return q


def current_q(at: datetime) -> Q:
    return (
        Q(status=Announcement.Status.PUBLISHED)
        & Q(valid_from__lte=at)
        & (Q(valid_until__isnull=True) | Q(valid_until__gt=at))
    )


def is_current(announcement: Announcement, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return (
        announcement.status == Announcement.Status.PUBLISHED
        and announcement.valid_from <= at
        and (announcement.valid_until is None or announcement.valid_until > at)
    )


def is_recipient(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(NoticesPerm.VIEW_NOTICES)
    )


def in_scope(user: Any, announcement: Announcement) -> bool:
    """Whether `announcement` is addressed to `user` (whatever its status and validity)."""
    if not is_recipient(user):
        return False
    if announcement.to_everyone:
        return True
    if announcement.people.filter(pk=user.pk).exists():
        return True
    covering = covering_department_ids(user)
    return bool(covering) and announcement.departments.filter(pk__in=covering).exists()


def announcements_for(user: Any) -> QuerySet[Announcement]:
    """Published announcements addressed to `user`, whatever their validity."""
    if not is_recipient(user):
        return Announcement.objects.none()
    return Announcement.objects.filter(_scope_q(user), status=Announcement.Status.PUBLISHED)


def _with_read(announcements: QuerySet[Announcement], user: Any) -> QuerySet[Announcement]:
    reads = AnnouncementRead.objects.filter(announcement_id=OuterRef("pk"), user_id=user.pk)
    return announcements.annotate(
        is_read=Exists(reads), read_at=Subquery(reads.values("read_at")[:1])
    )


def my_announcements(
    *,
    user: Any,
    notice_type: NoticeType | None = None,
    when: str = When.CURRENT,
    at: datetime | None = None,
) -> QuerySet[Announcement]:
    """ "My announcements": those for `user`, unread first, then the newest; `when` is current
    (in their validity period now), expired (validity over) or all that have begun."""
    at = at or timezone.now()
    announcements = announcements_for(user).filter(valid_from__lte=at)
    if when == When.CURRENT:
        announcements = announcements.filter(current_q(at))
    elif when == When.EXPIRED:
        announcements = announcements.filter(valid_until__lte=at)
    if notice_type is not None:
        announcements = announcements.filter(type=notice_type)
    return (
        _with_read(announcements, user)
        .select_related("type", "publisher")
        .order_by("is_read", "-valid_from", "-id")
    )


def unread_count(user: Any, at: datetime | None = None) -> int:
    """Current announcements for `user` that they have not read (the badge in the top bar)."""
    if not is_recipient(user):
        return 0
    at = at or timezone.now()
    reads = AnnouncementRead.objects.filter(announcement_id=OuterRef("pk"), user_id=user.pk)
    return announcements_for(user).filter(current_q(at)).exclude(Exists(reads)).count()


def announcement_for_reader(*, user: Any, pk: int) -> Announcement | None:
    """The announcement as `user` may open it, or None (the page answers 404)."""
    announcement = (
        Announcement.objects.select_related("type", "publisher", "outage").filter(pk=pk).first()
    )
    if announcement is None:
        return None
    if may_manage(user, announcement):
        return announcement
    if (
        announcement.status == Announcement.Status.PUBLISHED
        and announcement.valid_from <= timezone.now()
        and in_scope(user, announcement)
    ):
        return announcement
    return None


def announcement_read_at(*, user: Any, announcement: Announcement) -> datetime | None:
    return (
        AnnouncementRead.objects.filter(announcement=announcement, user_id=user.pk)
        .values_list("read_at", flat=True)
        .first()
    )


def published_by(*, user: Any) -> QuerySet[Announcement]:
    """The announcements `user` may manage: all with `manage_notices`, else their own."""
    announcements = Announcement.objects.select_related("type", "publisher").order_by(
        "-published_at", "-id"
    )
    if user.has_perm(NoticesPerm.MANAGE_NOTICES):
        return announcements
    if user.has_perm(NoticesPerm.PUBLISH_NOTICES):
        return announcements.filter(publisher_id=user.pk)
    return announcements.none()


# --- recipients and read receipts ------------------------------------------------------------


def _view_permission() -> Permission | None:
    app_label, codename = str(NoticesPerm.VIEW_NOTICES).split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()


def recipients(announcement: Announcement) -> QuerySet[User]:
    """Active staff in the scope of `announcement` who may read announcements."""
    permission = _view_permission()
    users = User.objects.filter(is_active=True)
    holders = Q(is_superuser=True)
    if permission is not None:
        holders |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    users = users.filter(pk__in=User.objects.filter(holders).values("pk"))
    if not announcement.to_everyone:
        department_ids = subtree_ids(set(announcement.departments.values_list("pk", flat=True)))
        people_ids = set(announcement.people.values_list("pk", flat=True))
        users = users.filter(Q(department_id__in=department_ids) | Q(pk__in=people_ids))
    return users.select_related("department").order_by("department__name", "agent_id")


@dataclass(frozen=True)
class Receipt:
    user: User
    read_at: datetime | None


@dataclass(frozen=True)
class Receipts:
    read: list[Receipt]
    unread: list[Receipt]

    @property
    def total(self) -> int:
        return len(self.read) + len(self.unread)


def read_receipts(announcement: Announcement) -> Receipts:
    """Who in scope has read the announcement (earliest first) and who has not."""
    read_at = dict(
        AnnouncementRead.objects.filter(announcement=announcement).values_list("user_id", "read_at")
    )
    read: list[Receipt] = []
    unread: list[Receipt] = []
    for user in recipients(announcement):
        if user.pk in read_at:
            read.append(Receipt(user, read_at[user.pk]))
        else:
            unread.append(Receipt(user, None))
    read.sort(key=lambda r: r.read_at or timezone.now())
    return Receipts(read, unread)


@dataclass(frozen=True)
class ReceiptCounts:
    read: int
    total: int


def receipt_counts(announcement: Announcement) -> ReceiptCounts:
    """How many of those in scope have read it, of how many (the list of published ones)."""
    users = recipients(announcement).order_by()
    read = AnnouncementRead.objects.filter(
        announcement=announcement, user_id__in=users.values("pk")
    ).count()
    return ReceiptCounts(read=read, total=users.count())


# --- types and choices ---------------------------------------------------------------------


def notice_types(*, active_only: bool = False) -> QuerySet[NoticeType]:
    types = NoticeType.objects.order_by("sort_order", "name")
    return types.filter(is_active=True) if active_only else types
