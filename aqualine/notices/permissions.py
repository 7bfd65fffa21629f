"""Permission names of the announcements app, as used by code (roles are data)."""

from enum import StrEnum


class NoticesPerm(StrEnum):
    VIEW_NOTICES = "notices.view_notices"
    PUBLISH_NOTICES = "notices.publish_notices"
    MANAGE_NOTICES = "notices.manage_notices"
    MANAGE_NOTICE_TYPES = "notices.manage_notice_types"
