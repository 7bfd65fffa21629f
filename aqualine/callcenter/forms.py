from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aqualine.callcenter.models import (
    caller_id_validator,
    extension_number_validator,
    validate_host_list,
    validate_number_list,
    validate_outbound_address,
)


class ExtensionCreateForm(forms.Form):
    number = forms.CharField(
        label=_("Extension number"), max_length=10, validators=[extension_number_validator]
    )
    display_name = forms.CharField(label=_("Display name"), max_length=50, required=False)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class ExtensionEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    display_name = forms.CharField(label=_("Display name"), max_length=50, required=False)
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    new_password = forms.BooleanField(
        label=_("Generate a new SIP password"),
        required=False,
        help_text=_("The phone must then be configured with the new password."),
    )


class TrunkForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Trunk name"), max_length=100)
    hosts = forms.CharField(
        label=_("Peer IP addresses"),
        max_length=500,
        validators=[validate_host_list],
        help_text=_("Calls are accepted from these addresses only; separate them with commas."),
    )
    numbers = forms.CharField(
        label=_("Hotline numbers"),
        max_length=500,
        validators=[validate_number_list],
        help_text=_("Numbers this trunk delivers to the hotline, e.g. 96000."),
    )
    username = forms.CharField(label=_("Digest user name"), max_length=100, required=False)
    password = forms.CharField(
        label=_("Digest password"),
        max_length=100,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password."),
    )
    outbound_address = forms.CharField(
        label=_("Outbound address"),
        max_length=255,
        required=False,
        validators=[validate_outbound_address],
        help_text=_(
            "Where outbound calls (click-to-dial, transfers to outside numbers) go: host or "
            "host:port, e.g. 10.0.0.1:5060. Empty: this trunk carries no outbound calls."
        ),
    )
    caller_id = forms.CharField(
        label=_("Caller ID"),
        max_length=21,
        required=False,
        validators=[caller_id_validator],
        help_text=_("The number the called party sees. Empty: the first hotline number."),
    )
    outbound_username = forms.CharField(
        label=_("Outbound digest user name"),
        max_length=100,
        required=False,
        help_text=_("For the carrier's challenge to outbound calls. Empty: the user name above."),
    )
    outbound_password = forms.CharField(
        label=_("Outbound digest password"),
        max_length=100,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
