from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aqualine.core.parameters import all_values


def navigation(request: HttpRequest) -> dict[str, Any]:
    from aqualine.navigation import menu_for

    values = all_values()
    context: dict[str, Any] = {
        "aq_site_name": values["basic.site_name"],
        "aq_utility_name": values["basic.utility_name"],
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["menu"] = menu_for(user, request.path)
    return context
