"""Permission names of the customers app, as used by code."""

from enum import StrEnum


class CustomersPerm(StrEnum):
    VIEW_CUSTOMERS = "customers.view_customers"
    IMPORT_CUSTOMERS = "customers.import_customers"
    MANAGE_OUTAGES = "customers.manage_outages"
