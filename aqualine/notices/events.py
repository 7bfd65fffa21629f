"""The real-time push of announcements to the Channels groups, sent only after commit.

Groups (channel names allow only letters, digits, `_`, `-`, `.`):
- `notices_everyone` — every connected recipient; an announcement to everyone goes here;
- `notices_department_<id>` — the browsers of that department's members *and of the members of
  every department below it* (each browser joins its own department's group and those of the
  departments above it); an announcement to a department goes to that department's group;
- `notices_user_<id>` — one person's browsers; an announcement naming people goes to each of
  them, and a read receipt goes to the reader's own browsers (their other tabs).

The message sent to a group (handled by `NoticeConsumer.notice_event`) is a plain dict:
    {"type": "notice.event", "event": "published" | "updated" | "withdrawn" | "read",
     "announcement": id, "version": the announcement's version, "key": a de-duplication key}
It carries no title or text: each consumer re-checks that the announcement is for its user
before it tells the browser anything (see consumers.py).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from aqualine.notices.models import Announcement
from aqualine.notices.selectors import covering_department_ids

PUBLISHED = "published"
UPDATED = "updated"
WITHDRAWN = "withdrawn"
READ = "read"

EVERYONE_GROUP = "notices_everyone"


def department_group(pk: int) -> str:
    return f"notices_department_{pk}"


def user_group(pk: int) -> str:
    return f"notices_user_{pk}"


def groups_of(user: Any) -> frozenset[str]:
    """The groups a recipient's browser joins."""
    return frozenset(
        {
            EVERYONE_GROUP,
            user_group(user.pk),
            *(department_group(pk) for pk in covering_department_ids(user)),
        }
    )


def push_groups(announcement: Announcement) -> list[str]:
    """The groups an event of `announcement` goes to."""
    if announcement.to_everyone:
        return [EVERYONE_GROUP]
    groups = [department_group(pk) for pk in announcement.departments.values_list("pk", flat=True)]
    groups += [user_group(pk) for pk in announcement.people.values_list("pk", flat=True)]
    return sorted(groups)


def send(groups: list[str], message: dict[str, Any]) -> None:
    """Send `message` to `groups`; a no-op without a channel layer."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        async_to_sync(layer.group_send)(group, message)


def _message(announcement: Announcement, event: str, key: str) -> dict[str, Any]:
    return {
        "type": "notice.event",
        "event": event,
        "announcement": announcement.pk,
        "version": announcement.version,
        "key": key,
    }


def publish_on_commit(announcement: Announcement, event: str) -> None:
    """Schedule the push of `event` to everyone in scope for when the transaction commits."""

    def push() -> None:
        # The module-level `send` is looked up when the callback runs (tests replace it).
        message = _message(announcement, event, f"{event}:{announcement.pk}:{announcement.version}")
        send(push_groups(announcement), message)

    transaction.on_commit(push, robust=True)


def publish_read_on_commit(announcement: Announcement, user: Any) -> None:
    """Tell the reader's other pages, so that their badges drop by one too."""

    def push() -> None:
        message = _message(announcement, READ, f"read:{announcement.pk}:{user.pk}")
        send([user_group(user.pk)], message)

    transaction.on_commit(push, robust=True)
