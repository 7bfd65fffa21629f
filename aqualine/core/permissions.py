"""Permission names of the core app, as used by code."""

from enum import StrEnum


class CorePerm(StrEnum):
    MANAGE_PARAMETERS = "core.manage_parameters"
    VIEW_AUDIT_LOG = "core.view_audit_log"
