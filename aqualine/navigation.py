"""The main menu: each entry names the permission it needs; users see only what they may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aqualine.accounts.permissions import AccountsPerm
from aqualine.callcenter.permissions import CallcenterPerm
from aqualine.callcenter.recordings import RecordingPerm
from aqualine.core.permissions import CorePerm
from aqualine.customers.permissions import CustomersPerm
from aqualine.desk.permissions import DeskPerm
from aqualine.knowledge.permissions import KnowledgePerm
from aqualine.notices.permissions import NoticesPerm
from aqualine.reports.permissions import ReportsPerm
from aqualine.wallboard.permissions import WallboardPerm
from aqualine.workorders.permissions import WorkordersPerm


@dataclass(frozen=True)
class MenuItem:
    label: Promise
    url_name: str
    perm: str | None


@dataclass(frozen=True)
class MenuSection:
    label: Promise
    items: tuple[MenuItem, ...]


MENU: tuple[MenuSection, ...] = (
    MenuSection(
        _("Work orders"),
        (
            MenuItem(_("New work order"), "workorders:intake", WorkordersPerm.CREATE_ORDERS),
            MenuItem(_("Work-order list"), "workorders:list", WorkordersPerm.VIEW_ALL_ORDERS),
            MenuItem(
                _("Work-order list"), "workorders:list", WorkordersPerm.VIEW_DEPARTMENT_ORDERS
            ),
        ),
    ),
    MenuSection(
        _("Customers"),
        (
            MenuItem(_("Customer lookup"), "customers:lookup", CustomersPerm.VIEW_CUSTOMERS),
            MenuItem(
                _("Water-outage notices"), "customers:outage_list", CustomersPerm.VIEW_CUSTOMERS
            ),
            MenuItem(_("Import customer data"), "customers:import", CustomersPerm.IMPORT_CUSTOMERS),
        ),
    ),
    MenuSection(
        _("Announcements"),
        (
            MenuItem(_("My announcements"), "notices:mine", NoticesPerm.VIEW_NOTICES),
            MenuItem(
                _("Published announcements"), "notices:published", NoticesPerm.PUBLISH_NOTICES
            ),
            MenuItem(_("Announcement types"), "notices:type_list", NoticesPerm.MANAGE_NOTICE_TYPES),
        ),
    ),
    MenuSection(
        _("Knowledge base"),
        (
            MenuItem(_("Knowledge base"), "knowledge:index", KnowledgePerm.VIEW_ARTICLES),
            MenuItem(
                _("Knowledge categories"),
                "knowledge:category_list",
                KnowledgePerm.MANAGE_CATEGORIES,
            ),
        ),
    ),
    MenuSection(
        _("Analysis"),
        (
            MenuItem(_("Intake and handling"), "reports:intake", ReportsPerm.VIEW_REPORTS),
            MenuItem(
                _("Timeliness and satisfaction"), "reports:timeliness", ReportsPerm.VIEW_REPORTS
            ),
            MenuItem(_("Call statistics"), "reports:calls", ReportsPerm.VIEW_CALL_REPORTS),
            MenuItem(_("Custom query"), "reports:query", ReportsPerm.VIEW_REPORTS),
            MenuItem(_("My exports"), "reports:exports", ReportsPerm.EXPORT),
            MenuItem(_("Wallboard"), "wallboard:wallboard", WallboardPerm.VIEW),
        ),
    ),
    MenuSection(
        _("Call centre"),
        (
            MenuItem(_("Agent desktop"), "desk:desk", DeskPerm.USE_DESKTOP),
            MenuItem(_("Agent monitor"), "desk:monitor", DeskPerm.SUPERVISE),
            MenuItem(
                _("Extensions and trunks"),
                "callcenter:extension_list",
                CallcenterPerm.VIEW_SWITCH,
            ),
            MenuItem(_("Queues"), "callcenter:queue_list", CallcenterPerm.VIEW_SWITCH),
            MenuItem(_("IVR flows"), "callcenter:flow_list", CallcenterPerm.VIEW_SWITCH),
            MenuItem(_("Voice prompts"), "callcenter:prompt_list", CallcenterPerm.VIEW_SWITCH),
            MenuItem(_("Call recordings"), "callcenter:recording_list", RecordingPerm.LISTEN),
        ),
    ),
    MenuSection(
        _("System management"),
        (
            MenuItem(_("Staff"), "accounts:staff_list", AccountsPerm.MANAGE_STAFF),
            MenuItem(_("Departments"), "accounts:department_list", AccountsPerm.MANAGE_DEPARTMENTS),
            MenuItem(_("Roles and permissions"), "accounts:role_list", AccountsPerm.MANAGE_ROLES),
            MenuItem(_("System parameters"), "core:parameters", CorePerm.MANAGE_PARAMETERS),
            MenuItem(_("Audit log"), "core:audit_log", CorePerm.VIEW_AUDIT_LOG),
        ),
    ),
)


@dataclass(frozen=True)
class VisibleItem:
    label: Promise
    url: str
    active: bool


def menu_for(user: object, path: str) -> list[tuple[Promise, list[VisibleItem]]]:
    visible: list[tuple[Promise, list[tuple[Promise, str]]]] = []
    for section in MENU:
        entries: list[tuple[Promise, str]] = []
        for item in section.items:
            if item.perm is not None and not user.has_perm(item.perm):  # type: ignore[attr-defined]
                continue
            url = reverse(item.url_name)
            if any(seen_url == url for _label, seen_url in entries):
                continue  # the same page offered under either of two permissions
            entries.append((item.label, url))
        if entries:
            visible.append((section.label, entries))
    # The entry whose address is the longest prefix of the page is the current one (so that
    # /workorders/new/ marks 受理工单, not also 工单列表 at /workorders/).
    matches = [url for _s, entries in visible for _l, url in entries if path.startswith(url)]
    current = max(matches, key=len, default=None)
    return [
        (label, [VisibleItem(item_label, url, url == current) for item_label, url in entries])
        for label, entries in visible
    ]
