"""A paginator that stops counting: lists over millions of rows (work orders, call records)
count at most `cap` + 1 rows, so a page costs the same whatever the table's size."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class CappedPaginator(Paginator):
    """Counts up to `cap` rows: past it `count` is `cap` and `capped` is True (the pages after
    the cap are not offered; the page says to narrow the filters)."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int = 1000, **kwargs: Any):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _limited_count(self) -> int:
        sliced: Any = self.object_list[: self.cap + 1]
        return int(sliced.count()) if hasattr(sliced, "count") else len(sliced)

    @cached_property
    def count(self) -> int:
        return min(self._limited_count, self.cap)

    @property
    def capped(self) -> bool:
        return self._limited_count > self.cap
