from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from aqualine.core.forms import SafeModelChoiceField, clean_query
from aqualine.knowledge import selectors
from aqualine.knowledge.models import Article, Category
from aqualine.knowledge.sanitize import sanitize_html
from aqualine.knowledge.services import ATTACHMENT_MAX_BYTES, MAX_BODY_LENGTH


def _category_choices(
    user: object, include: Category | None = None, exclude_subtree: Category | None = None
) -> list[tuple[str, str]]:
    """Active categories as an indented list (the article's or category's current one is kept
    even when it is inactive)."""
    skip = set(selectors.category_subtree_ids(exclude_subtree)) if exclude_subtree else set()
    choices = []
    for node in selectors.flatten(selectors.category_tree(user=user, include_inactive=True)):
        category = node.category
        if category.pk in skip:
            continue
        if not category.is_active and (include is None or include.pk != category.pk):
            continue
        choices.append((str(category.pk), "　" * node.depth + category.name))
    return choices


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    category = SafeModelChoiceField(queryset=Category.objects.all(), required=False)

    def clean_q(self) -> str:
        return clean_query(self.cleaned_data.get("q") or "")


class ArticleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    category = SafeModelChoiceField(
        label=_("Article category"),
        queryset=Category.objects.all(),
        error_messages={"required": _("Choose a category.")},
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=500,
        help_text=_(
            "Words callers use for this topic, separated by commas or spaces; found by search "
            "like the title."
        ),
    )
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 16, "class": "kb-source"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=Article.Status.choices,
        initial=Article.Status.DRAFT,
        widget=forms.RadioSelect,
        help_text=_("Drafts are seen only by those who manage the knowledge base."),
    )

    def __init__(
        self, *args: Any, user: object, article: Article | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.article = article
        if isinstance(self.data, QueryDict) and "body" in self.data:
            # What goes back into the editor (after an error or a conflict) is sanitised too:
            # the editor parses it as HTML.
            data = self.data.copy()
            data["body"] = sanitize_html(str(data.get("body", "")))
            self.data = data
        field = self.fields["category"]
        field.choices = [  # type: ignore[attr-defined]
            ("", "---------"),
            *_category_choices(user, include=article.category if article else None),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.article is not None and not data.get("version"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        return data


class CategoryForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Category name"), max_length=100)
    parent = SafeModelChoiceField(
        label=_("Parent category"),
        queryset=Category.objects.all(),
        required=False,
        empty_label=_("(top level)"),
    )

    def __init__(
        self, *args: Any, user: object, category: Category | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.category = category
        field = self.fields["parent"]
        # A category cannot go under itself or its subcategories (the service refuses it too).
        field.choices = [  # type: ignore[attr-defined]
            ("", str(_("(top level)"))),
            *_category_choices(
                user, include=category.parent if category else None, exclude_subtree=category
            ),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.category is not None and not data.get("version"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        return data


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A picture (JPEG, PNG, GIF, WebP), a PDF or a Word/Excel file; up to 10 MB."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(_("A file may be at most 10 MB."))
        return upload
