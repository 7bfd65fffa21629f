"""Permission names of the work-order app, as used by code (roles are data; code checks these)."""

from enum import StrEnum


class WorkordersPerm(StrEnum):
    CREATE_ORDERS = "workorders.create_orders"
    DISPATCH_ORDERS = "workorders.dispatch_orders"
    FOLLOW_UP_ORDERS = "workorders.follow_up_orders"
    URGE_ORDERS = "workorders.urge_orders"
    HANDLE_TASKS = "workorders.handle_tasks"
    RECORD_FOR_DEPARTMENT = "workorders.record_for_department"
    REDO_CLOSED_ORDERS = "workorders.redo_closed_orders"
    VIEW_ALL_ORDERS = "workorders.view_all_orders"
    VIEW_DEPARTMENT_ORDERS = "workorders.view_department_orders"
