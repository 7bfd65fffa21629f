from __future__ import annotations

from typing import Any

from rest_framework import pagination

from aqualine.core.parameters import param


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N`; the page size is the system parameter "rows per page" unless the client asks
    for another with `?page_size=` (at most 200)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int | None:
        self.page_size = int(param("basic.page_size"))
        return super().get_page_size(request)
