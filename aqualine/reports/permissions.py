"""Permission names of the reports app, as used by code (roles are data; code checks these)."""

from enum import StrEnum


class ReportsPerm(StrEnum):
    # The work-order reports and the custom query, within the viewer's data scope (the orders
    # `aqualine.workorders.selectors.workorders_visible_to` gives them).
    VIEW_REPORTS = "reports.view_reports"
    # The call-centre reports (X1): calls are not scoped by department.
    VIEW_CALL_REPORTS = "reports.view_call_reports"
    # Excel downloads of the reports and of custom queries (with the view permission); large
    # ones are written by the worker and listed in 我的导出 (their owner's only).
    EXPORT = "reports.export"
    # Download anyone's exports from 我的导出 (administrators).
    VIEW_ALL_EXPORTS = "reports.view_all_exports"
