"""Permission names of the accounts app, as used by code (roles are data; code checks these)."""

from enum import StrEnum


class AccountsPerm(StrEnum):
    MANAGE_STAFF = "accounts.manage_staff"
    MANAGE_DEPARTMENTS = "accounts.manage_departments"
    MANAGE_ROLES = "accounts.manage_roles"
