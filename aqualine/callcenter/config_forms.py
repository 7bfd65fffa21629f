"""Forms of the call-centre configuration pages: queues, IVR flows and voice prompts.

The flow form validates the JSON with the IVR schema (`aqualine.telephony.ivr.flow`) and turns
each issue into a sentence an administrator can act on (:func:`present_issues`); the prompt form
decodes the upload into the switch's format (8 kHz mono 16-bit) or refuses it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aqualine.accounts.models import User
from aqualine.callcenter.config_views.audio import Samples, decode_prompt
from aqualine.callcenter.config_views.flow_text import ShownIssue, present_issues
from aqualine.callcenter.models import IvrFlow, Queue, queue_name_validator
from aqualine.core.forms import SafeModelMultipleChoiceField
from aqualine.telephony.ivr.flow import ERROR, validate_flow

MAX_FLOW_CHARS: Final = 500_000
PROMPT_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
TRANSFER_NUMBER: Final = re.compile(r"[0-9*#+]{1,32}")

prompt_name_validator = RegexValidator(
    rf"^{PROMPT_NAME.pattern}$",
    gettext_lazy(
        "A prompt name has letters, digits, - or _ (at most 64), e.g. welcome or night_message."
    ),
)
called_number_validator = RegexValidator(
    r"^[0-9]{3,20}$", gettext_lazy("A called number has 3 to 20 digits, e.g. 96000.")
)


def _label(model: type, field: str) -> Any:
    return capfirst(model._meta.get_field(field).verbose_name)  # type: ignore[attr-defined]


# --- queues -------------------------------------------------------------------------------------


class QueueForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(
        label=_label(Queue, "name"),
        max_length=40,
        validators=[queue_name_validator],
        help_text=gettext_lazy("The name IVR flows use in their queue nodes, e.g. hotline."),
    )
    display_name = forms.CharField(label=_label(Queue, "display_name"), max_length=50)
    members = SafeModelMultipleChoiceField(
        label=_label(Queue, "members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    wrap_up_seconds = forms.IntegerField(
        label=_label(Queue, "wrap_up_seconds"),
        required=False,
        min_value=0,
        max_value=3600,
        help_text=Queue._meta.get_field("wrap_up_seconds").help_text,
    )
    ring_seconds = forms.IntegerField(
        label=_label(Queue, "ring_seconds"),
        required=False,
        min_value=5,
        max_value=300,
        help_text=Queue._meta.get_field("ring_seconds").help_text,
    )
    max_wait_seconds = forms.IntegerField(
        label=_label(Queue, "max_wait_seconds"),
        required=False,
        min_value=10,
        max_value=7200,
        help_text=gettext_lazy("Empty: callers wait until an agent answers or they hang up."),
    )
    overflow = forms.ChoiceField(
        label=_label(Queue, "overflow"), choices=Queue.Overflow.choices, required=False
    )
    overflow_target = forms.CharField(
        label=_label(Queue, "overflow_target"),
        max_length=64,
        required=False,
        help_text=gettext_lazy(
            "Transfer: the number (required). Message: a voice prompt's name (empty: a spoken "
            "“all agents are busy”). Voice message: the mailbox (optional)."
        ),
    )
    announce_seconds = forms.IntegerField(
        label=_label(Queue, "announce_seconds"),
        min_value=0,
        max_value=600,
        initial=30,
        help_text=Queue._meta.get_field("announce_seconds").help_text,
    )
    enabled = forms.BooleanField(label=_label(Queue, "enabled"), required=False, initial=True)

    def __init__(self, *args: Any, queue: Queue | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Q(is_active=True)
        if queue is not None and queue.pk is not None:
            members |= Q(queues=queue)  # an inactive member stays listed, not silently dropped
        field = self.fields["members"]
        assert isinstance(field, SafeModelMultipleChoiceField)
        field.queryset = (
            User.objects.filter(members)
            .select_related("department")
            .distinct()
            .order_by("department__name", "agent_id")
        )

    def clean_announce_seconds(self) -> int:
        value: int = self.cleaned_data["announce_seconds"]
        if 0 < value < 10:
            raise ValidationError(_("Announce at most every 10 seconds, or enter 0 for never."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        overflow = data.get("overflow") or ""
        target = (data.get("overflow_target") or "").strip()
        if "max_wait_seconds" in data and "overflow" in data:
            if overflow and data["max_wait_seconds"] is None:
                self.add_error(
                    "max_wait_seconds",
                    _("Enter the longest wait: the action after it needs one."),
                )
            if not overflow and data["max_wait_seconds"] is not None:
                self.add_error(
                    "overflow",
                    _("Choose what happens to a caller who has waited the longest wait."),
                )
        if overflow == Queue.Overflow.TRANSFER:
            if not target:
                self.add_error("overflow_target", _("Enter the number to transfer callers to."))
            elif not TRANSFER_NUMBER.fullmatch(target):
                self.add_error("overflow_target", _("%(n)s is not a phone number.") % {"n": target})
        elif overflow == Queue.Overflow.MESSAGE and target and not PROMPT_NAME.fullmatch(target):
            self.add_error(
                "overflow_target",
                _("%(name)s is not a voice prompt name (letters, digits, - or _).")
                % {"name": target},
            )
        elif not overflow:
            target = ""  # nothing to overflow to: do not keep a stale target
        data["overflow_target"] = target
        return data

    def member_groups(self) -> list[tuple[str, list[tuple[User, bool]]]]:
        """The candidate members by department, each with whether it is ticked."""
        if self.is_bound:
            chosen = {str(v) for v in self.data.getlist("members")}  # type: ignore[attr-defined]
        else:
            chosen = {str(getattr(u, "pk", u)) for u in self.initial.get("members", [])}
        groups: dict[str, list[tuple[User, bool]]] = {}
        field = self.fields["members"]
        assert isinstance(field, SafeModelMultipleChoiceField)
        for user in field.queryset or []:
            department = user.department.name if user.department else _("No department")
            groups.setdefault(department, []).append((user, str(user.pk) in chosen))
        return list(groups.items())


# --- IVR flows ----------------------------------------------------------------------------------


class FlowCreateForm(forms.Form):
    number = forms.CharField(
        label=_label(IvrFlow, "number"),
        max_length=20,
        validators=[called_number_validator],
        help_text=gettext_lazy("The hotline number callers dial, as a trunk delivers it."),
    )
    name = forms.CharField(label=_label(IvrFlow, "name"), max_length=100)

    def clean_number(self) -> str:
        number: str = self.cleaned_data["number"]
        if IvrFlow.objects.filter(number=number).exists():
            raise ValidationError(_("Another IVR flow already answers %(n)s.") % {"n": number})
        return number


class FlowEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    number = forms.CharField(
        label=_label(IvrFlow, "number"), max_length=20, validators=[called_number_validator]
    )
    name = forms.CharField(label=_label(IvrFlow, "name"), max_length=100)
    enabled = forms.BooleanField(label=_label(IvrFlow, "enabled"), required=False)
    flow_json = forms.CharField(
        label=gettext_lazy("The flow as JSON"),
        max_length=MAX_FLOW_CHARS,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 30, "spellcheck": "false", "class": "flow-json", "wrap": "off"}
        ),
    )

    def __init__(self, *args: Any, flow: IvrFlow, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flow = flow
        self.issues: list[ShownIssue] = []
        self.json_error: dict[str, int] | None = None  # line and column of a JSON syntax error

    def clean_number(self) -> str:
        number: str = self.cleaned_data["number"]
        if IvrFlow.objects.filter(number=number).exclude(pk=self.flow.pk).exists():
            raise ValidationError(_("Another IVR flow already answers %(n)s.") % {"n": number})
        return number

    def clean_flow_json(self) -> dict[str, Any]:
        text: str = self.cleaned_data["flow_json"]
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            self.json_error = {"line": exc.lineno, "column": exc.colno}
            raise ValidationError(
                _("This is not valid JSON: line %(line)s, column %(column)s: %(problem)s.")
                % {"line": exc.lineno, "column": exc.colno, "problem": _json_problem(exc.msg)}
            ) from None
        issues = validate_flow(parsed)
        self.issues = present_issues(issues, parsed)
        errors = sum(1 for i in issues if i.severity == ERROR)
        if errors:
            raise ValidationError(
                _("The flow has %(n)s errors (listed below); it was not saved.") % {"n": errors}
            )
        assert isinstance(parsed, dict)
        return parsed


_JSON_PROBLEMS: Final[dict[str, Promise]] = {
    "Expecting ',' delimiter": gettext_lazy("a comma is missing"),
    "Expecting ':' delimiter": gettext_lazy("a colon is missing"),
    "Expecting value": gettext_lazy("a value is missing (or there is a comma too many)"),
    "Expecting property name enclosed in double quotes": gettext_lazy(
        "a name in double quotes is expected (or there is a comma too many)"
    ),
    "Unterminated string starting at": gettext_lazy("a text in quotes is not closed"),
    "Invalid control character at": gettext_lazy("a line break inside a text in quotes"),
    "Extra data": gettext_lazy("there is more after the end of the flow"),
}


def _json_problem(message: str) -> str:
    return str(_JSON_PROBLEMS.get(message, message))


# --- voice prompts ------------------------------------------------------------------------------


class PromptUploadForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Prompt name"),
        max_length=64,
        validators=[prompt_name_validator],
        help_text=gettext_lazy(
            'The name flows play it by ({"file": "NAME"}); the name of a shipped prompt, e.g. '
            "welcome, replaces that prompt."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("Audio file (WAV or MP3)"),
        help_text=gettext_lazy(
            "At most 5 MB and 5 minutes; stored as 8 kHz mono 16-bit WAV, as the phones hear it."
        ),
    )
    replace = forms.BooleanField(
        label=gettext_lazy("Replace the uploaded prompt of the same name"), required=False
    )

    def __init__(self, *args: Any, prompts_dir: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prompts_dir = prompts_dir
        self.samples: Samples | None = None

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        self.samples = decode_prompt(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("name")
        if name and not data.get("replace") and (self.prompts_dir / f"{name}.wav").exists():
            self.add_error(
                "replace",
                _("An uploaded prompt is already called %(name)s: tick the box to replace it.")
                % {"name": name},
            )
        return data
