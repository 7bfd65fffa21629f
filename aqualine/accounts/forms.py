from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Permission
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aqualine.accounts.models import Department, Role, User, agent_id_validator, phone_validator
from aqualine.accounts.selectors import business_permissions, department_tree
from aqualine.core.forms import SafeModelChoiceField, SafeModelMultipleChoiceField


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Wrong agent ID or password."),
        "inactive": _("This account has been deactivated."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Agent ID")
        self.fields["username"].validators.append(MaxLengthValidator(20))
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})


def department_choices(*, active_only: bool = True, keep: Any = None) -> list[tuple[Any, str]]:
    """Departments in tree order, indented, so the hierarchy is visible in a drop-down.
    `keep` (a pk) stays listed even when deactivated: the record's current value."""
    rows = [
        r
        for r in department_tree()
        if r.department.is_active or not active_only or r.department.pk == keep
    ]
    return [("", "---------")] + [
        (r.department.pk, "\u3000" * r.depth + r.department.name) for r in rows
    ]


def _offer_departments(field: forms.Field, keep: Any) -> None:
    field.choices = department_choices(keep=keep)  # type: ignore[attr-defined]
    if keep:
        field.queryset = Department.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=keep)
        )


def department_field(label: Any) -> forms.ModelChoiceField:
    return SafeModelChoiceField(
        label=label, queryset=Department.objects.filter(is_active=True), required=False
    )


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _role_field() -> forms.ModelMultipleChoiceField:
    return SafeModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.order_by("sort_order", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class StaffCreateForm(forms.Form):
    agent_id = forms.CharField(label=_("Agent ID"), max_length=20, validators=[agent_id_validator])
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Phone"), max_length=30, required=False, validators=[phone_validator]
    )
    department = department_field(_("Department"))
    roles = _role_field()
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_departments(self.fields["department"], self.initial.get("department"))

    def clean_agent_id(self) -> str:
        agent_id: str = self.cleaned_data["agent_id"].strip()
        if User.objects.filter(agent_id__iexact=agent_id).exists():
            raise forms.ValidationError(_("A staff member with this agent ID already exists."))
        return agent_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            probe = User(agent_id=cleaned.get("agent_id", ""), name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class StaffEditForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Phone"), max_length=30, required=False, validators=[phone_validator]
    )
    department = department_field(_("Department"))
    roles = _role_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_departments(self.fields["department"], self.initial.get("department"))


class PasswordResetForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Department name"), max_length=100)
    code = forms.SlugField(
        label=_("Code"),
        max_length=50,
        help_text=_("Letters, digits, dash and underscore; e.g. repair."),
    )
    parent = department_field(_("Parent department"))
    phone = forms.CharField(
        label=_("Phone"), max_length=30, required=False, validators=[phone_validator]
    )
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=0, max_value=100000, initial=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_departments(self.fields["parent"], self.initial.get("parent"))


class DepartmentEditForm(DepartmentForm, VersionedForm):
    pass


class PermissionsField(SafeModelMultipleChoiceField):
    def label_from_instance(self, obj: Permission) -> str:
        from django.utils.translation import gettext

        return gettext(obj.name)


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Role name"), max_length=150)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    permissions = PermissionsField(
        label=_("Permissions"),
        queryset=Permission.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = business_permissions()  # type: ignore[attr-defined]


class RoleEditForm(RoleForm, VersionedForm):
    pass
