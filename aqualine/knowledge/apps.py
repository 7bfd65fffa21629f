from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The audit actions of this app (the audit log refuses actions it has no label for).
AUDIT_ACTIONS = {
    "knowledge_category.create": _("Created knowledge category"),
    "knowledge_category.update": _("Edited knowledge category"),
    "knowledge_category.move": _("Moved knowledge category"),
    "knowledge_category.reorder": _("Reordered knowledge category"),
    "knowledge_category.deactivate": _("Retired knowledge category"),
    "knowledge_category.activate": _("Put knowledge category back in use"),
    "knowledge_category.delete": _("Deleted knowledge category"),
    "knowledge_article.create": _("Created knowledge article"),
    "knowledge_article.update": _("Edited knowledge article"),
    "knowledge_article.move": _("Moved knowledge article to another category"),
    "knowledge_article.publish": _("Published knowledge article"),
    "knowledge_article.unpublish": _("Unpublished knowledge article (back to draft)"),
    "knowledge_article.restore": _("Restored an earlier revision of a knowledge article"),
    "knowledge_article.delete": _("Deleted knowledge article"),
    "knowledge_attachment.upload": _("Uploaded knowledge-base attachment"),
    "knowledge_attachment.delete": _("Deleted knowledge-base attachment"),
}
# The fields that this app's audit rows record changes of (services._*_snapshot), labelled as on
# the forms.
AUDIT_FIELDS = {
    "category_name": _("Category name"),
    "parent_category": _("Parent category"),
    "title": _("Title"),
    "article_category": _("Article category"),
    "keywords": _("Keywords"),
    "body_length": _("Text length (characters)"),
}


class KnowledgeConfig(AppConfig):
    name = "aqualine.knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from aqualine.core.audit import ACTION_LABELS
        from aqualine.core.templatetags.aqualine import FIELD_LABELS

        for code, label in AUDIT_ACTIONS.items():
            ACTION_LABELS.setdefault(code, label)
        for key, label in AUDIT_FIELDS.items():
            FIELD_LABELS.setdefault(key, label)
