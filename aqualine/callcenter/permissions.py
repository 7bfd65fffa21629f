"""Permission names of the call-centre app, as used by code."""

from enum import StrEnum


class CallcenterPerm(StrEnum):
    MANAGE_TELEPHONY = "callcenter.manage_telephony"
    VIEW_SWITCH = "callcenter.view_switch"
    VIEW_CALL_RECORDS = "callcenter.view_call_records"
