"""Template filters shared by the apps' pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aqualine.core.audit import ACTION_LABELS
from aqualine.core.parameters import BY_KEY

register = template.Library()

# Labels of the fields that audit rows record changes of.
FIELD_LABELS = {
    "agent_id": gettext_lazy("Agent ID"),
    "name": gettext_lazy("Name"),
    "phone": gettext_lazy("Phone"),
    "department": gettext_lazy("Department"),
    "roles": gettext_lazy("Roles"),
    "is_active": gettext_lazy("Status"),
    "code": gettext_lazy("Code"),
    "parent": gettext_lazy("Parent department"),
    "sort_order": gettext_lazy("Sort order"),
    "description": gettext_lazy("Description"),
    "permissions": gettext_lazy("Permissions"),
    "display_name": gettext_lazy("Display name"),
    "enabled": gettext_lazy("Enabled"),
    "hosts": gettext_lazy("Peer IP addresses"),
    "numbers": gettext_lazy("Hotline numbers"),
    "username": gettext_lazy("Digest user name"),
    "password": gettext_lazy("Password"),
    "outbound_address": gettext_lazy("Outbound address"),
    "caller_id": gettext_lazy("Caller ID"),
    "outbound_username": gettext_lazy("Outbound user name"),
    "outbound_password": gettext_lazy("Outbound password"),
}


@register.filter
def field_label(key: str) -> str:
    """The label of a recorded field (or of a system parameter), in the user's language."""
    if key in FIELD_LABELS:
        return str(FIELD_LABELS[key])
    if key in BY_KEY:
        return str(BY_KEY[key].label)
    return key


@register.filter
def audit_value(value: Any) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if value in (None, "", []):
        return "∅"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


@register.filter
def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


@register.filter
def tel(number: Any) -> SafeString | str:
    """A phone number as a ``tel:`` link: a phone in the field dials it, and the agent desktop
    dials it through the switch (click-to-dial). Empty stays empty."""
    text = str(number or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if len(digits) < 3:
        return text
    return format_html('<a class="tel nowrap" href="tel:{}">{}</a>', digits, text)
