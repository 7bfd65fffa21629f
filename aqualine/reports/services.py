"""Writes of the reports app: a person's saved custom queries."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aqualine.reports.models import SavedQuery


@transaction.atomic
def saved_query_save(
    *, owner: Any, name: str, conditions: dict[str, str], columns: list[str]
) -> SavedQuery:
    """Save the query under `name` for `owner`; a query of theirs with that name is replaced."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the query a name.")})
    now = timezone.now()
    try:
        with transaction.atomic():
            query, created = SavedQuery.objects.select_for_update().get_or_create(
                owner=owner,
                name=name,
                defaults={
                    "conditions": conditions,
                    "columns": columns,
                    "created_at": now,
                    "updated_at": now,
                },
            )
    except IntegrityError:  # saved under the same name at the same moment: replace that one
        query, created = SavedQuery.objects.select_for_update().get(owner=owner, name=name), False
    if not created:
        query.conditions, query.columns, query.updated_at = conditions, columns, now
        query.save(update_fields=["conditions", "columns", "updated_at"])
    return query


def saved_query_delete(*, owner: Any, query: SavedQuery) -> None:
    """Delete one of `owner`'s saved queries (someone else's is not theirs to delete)."""
    if query.owner_id != owner.pk:
        raise ValidationError(_("This saved query is not yours."))
    query.delete()
