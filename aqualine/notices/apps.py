from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The audit actions of this app (the audit log refuses actions it has no label for).
AUDIT_ACTIONS = {
    "notice_type.create": _("Created announcement type"),
    "notice_type.update": _("Edited announcement type"),
    "announcement.publish": _("Published announcement"),
    "announcement.update": _("Edited announcement"),
    "announcement.withdraw": _("Withdrew announcement"),
}
# The fields that this app's audit rows record changes of (services._type_snapshot and
# services._audit_snapshot), labelled as on the forms.
AUDIT_FIELDS = {
    "type_name": _("Type name"),
    "sort_order": _("Sort order"),
    "in_use": _("In use"),
    "announcement_type": _("Announcement type"),
    "title": _("Title"),
    "body_length": _("Text length (characters)"),
    "valid_from": _("Valid from"),
    "valid_until": _("Valid until"),
    "to_everyone": _("For everyone"),
    "scope_departments": _("For departments (each with all its sub-departments)"),
    "scope_people": _("For these people (in any department)"),
    "outage": _("Related water-outage notice"),
}


class NoticesConfig(AppConfig):
    name = "aqualine.notices"
    verbose_name = _("Announcements")

    def ready(self) -> None:
        from aqualine.core.audit import ACTION_LABELS
        from aqualine.core.templatetags.aqualine import FIELD_LABELS

        for code, label in AUDIT_ACTIONS.items():
            ACTION_LABELS.setdefault(code, label)
        for key, label in AUDIT_FIELDS.items():
            FIELD_LABELS.setdefault(key, label)
