"""In-memory IVR ports for tests (and for trying a flow without a database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aqualine.telephony.ivr.ports import AccountBalance, AccountCheck, RepairOrder


@dataclass(frozen=True)
class FakeAccount:
    number: str
    phones: tuple[str, ...] = ()
    area: str = ""  # an area code
    arrears: Decimal = Decimal("0.00")
    arrears_months: int = 0
    current_due: Decimal = Decimal("0.00")


class MemoryIvrPorts:
    """Accounts and outage texts by area code; keeps the orders it creates and every call.

    Name a method in ``fail`` to make it raise (a database that is down).
    """

    def __init__(
        self,
        accounts: Iterable[FakeAccount] = (),
        outages: Mapping[str, Sequence[str]] | None = None,
        *,
        order_prefix: str = "GD20261126",
    ) -> None:
        self.accounts = {a.number: a for a in accounts}
        self.outages = {area: list(texts) for area, texts in (outages or {}).items()}
        self.order_prefix = order_prefix
        self.orders: list[tuple[str, RepairOrder]] = []
        self.calls: list[str] = []
        self.fail: set[str] = set()

    def _called(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise RuntimeError(f"{name} is unavailable")

    def outage_text_for_caller(self, *, caller: str, at: datetime) -> str | None:
        self._called("outage_text_for_caller")
        areas = dict.fromkeys(a.area for a in self.accounts.values() if caller in a.phones)
        if not areas:
            return None
        return "".join(text for area in areas for text in self.outages.get(area, ()))

    def outage_text_for_area(self, *, area: str | None, at: datetime) -> str:
        self._called("outage_text_for_area")
        if area is None:
            return "".join(text for texts in self.outages.values() for text in texts)
        return "".join(self.outages.get(area, ()))

    def account_check(self, *, account_number: str, caller: str) -> AccountCheck | None:
        self._called("account_check")
        account = self.accounts.get(account_number)
        if account is None:
            return None
        return AccountCheck(
            caller_is_account_phone=caller in account.phones,
            has_registered_phone=bool(account.phones),
        )

    def account_phone_suffix_matches(self, *, account_number: str, digits: str) -> bool:
        self._called("account_phone_suffix_matches")
        account = self.accounts.get(account_number)
        return (
            account is not None
            and len(digits) >= 4
            and any(phone.endswith(digits) for phone in account.phones)
        )

    def account_balance(self, *, account_number: str, at: datetime) -> AccountBalance | None:
        self._called("account_balance")
        account = self.accounts.get(account_number)
        if account is None:
            return None
        return AccountBalance(account.arrears, account.arrears_months, account.current_due)

    def create_repair_order(self, order: RepairOrder) -> str:
        self._called("create_repair_order")
        number = f"{self.order_prefix}{len(self.orders) + 1:04d}"
        self.orders.append((number, order))
        return number
