"""What the IVR needs from the rest of the system: outage notices, accounts, repair orders.

`aqualine.callcenter.ports` implements these with the Django ORM (the customers and workorders
apps' selectors and services); tests use :class:`~aqualine.telephony.ivr.fakes.MemoryIvrPorts`.
The interpreter never calls a port itself: it emits a request (actions.py) and the switch runs it
with :func:`~aqualine.telephony.ivr.actions.run_request` in a worker thread
(``asyncio.to_thread``), then feeds the result back. Port methods are synchronous, like the ORM.

Phone numbers are passed as the switch received them; the adapters normalise them
(``customers.models.normalize_phone``). Areas are named by their code (``Area.code``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

ORDER_SOURCE_IVR: Final = "ivr"  # WorkOrder.Source.IVR


@dataclass(frozen=True)
class AccountCheck:
    """What the caller check needs to know about an account (never its balance)."""

    caller_is_account_phone: bool  # the calling number is one of the account's phones
    has_registered_phone: bool  # the account has a phone whose last digits can be asked for


@dataclass(frozen=True)
class AccountBalance:
    arrears: Decimal  # unpaid amount of bills past their due date (欠费), yuan
    arrears_months: int  # how many bills that is
    current_due: Decimal = Decimal("0.00")  # unpaid amount of bills not yet due


@dataclass(frozen=True)
class RepairOrder:
    """A repair message left in the IVR, to become a work order.

    The adapter creates the order in 待派单 (pending dispatch) with source ``ivr``, the caller's
    number, the account when one was keyed in and found during the call, and the recording
    attached; it returns the order number (e.g. ``GD202611260001``).
    """

    caller: str
    callee: str
    call_id: str
    recording_path: str  # the WAV file the switch recorded
    recording_seconds: float
    at: datetime
    account_number: str = ""  # keyed in earlier in the call (balance node), else ""
    category: str = ""  # the flow's hint (a category name); "" lets the adapter choose
    ivr_path: str = ""  # e.g. "主菜单>报修"
    source: str = ORDER_SOURCE_IVR


class OutageDirectory(Protocol):
    def outage_text_for_caller(self, *, caller: str, at: datetime) -> str | None:
        """What to say about outages in the area(s) of the accounts the caller's number belongs
        to, in effect or starting soon (one Mandarin sentence per notice); "" when none; None when
        the number belongs to no account (the area is unknown)."""
        ...

    def outage_text_for_area(self, *, area: str | None, at: datetime) -> str:
        """What to say about outages in one area (by code), or in every area when None; ""
        when none."""
        ...


class AccountDirectory(Protocol):
    def account_check(self, *, account_number: str, caller: str) -> AccountCheck | None:
        """None when no account has that number."""
        ...

    def account_phone_suffix_matches(self, *, account_number: str, digits: str) -> bool:
        """Whether one of the account's registered phones ends with `digits`."""
        ...

    def account_balance(self, *, account_number: str, at: datetime) -> AccountBalance | None:
        """The account's arrears as of `at`; None when no account has that number."""
        ...


class RepairOrders(Protocol):
    def create_repair_order(self, order: RepairOrder) -> str:
        """Create the work order and return its number."""
        ...


class IvrPorts(OutageDirectory, AccountDirectory, RepairOrders, Protocol):
    """Everything the IVR uses, as one object."""
