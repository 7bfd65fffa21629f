from __future__ import annotations

import re
import secrets
import string

from django.core.exceptions import ValidationError
from django.core.validators import (
    RegexValidator,
    validate_ipv4_address,
    validate_ipv6_address,
    validate_ipv46_address,
)
from django.db import models
from django.utils.translation import gettext_lazy as _

extension_number_validator = RegexValidator(
    r"^[0-9]{2,10}$", _("An extension number has 2 to 10 digits.")
)
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_sip_password(length: int = 12) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]


def validate_host_list(value: str) -> None:
    hosts = split_list(value)
    if not hosts:
        raise ValidationError(_("Enter at least one IP address."))
    for host in hosts:
        try:
            validate_ipv46_address(host)
        except ValidationError:
            raise ValidationError(_("%(host)s is not an IP address.") % {"host": host}) from None


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _is_host_name(host: str) -> bool:
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return False
    return not labels[-1].isdigit()  # 10.0.0.300 is no IP address and no name either


def validate_outbound_address(value: str) -> None:
    """ "host" or "host:port": an IP address or a DNS name; an IPv6 address in brackets
    ("[2001:db8::1]" or "[2001:db8::1]:5060")."""
    text = value.strip()
    invalid = ValidationError(
        _("Enter a host or host:port, e.g. 10.0.0.1 or sip.carrier.example:5060."),
        code="invalid",
    )
    bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?", text)
    if bracketed:
        host, port, ipv6 = bracketed[1], bracketed[2] or "", True
    elif text.count(":") == 1:
        (host, port), ipv6 = text.split(":"), False
        if not port.isdigit():
            raise invalid
    elif ":" in text:  # a bare IPv6 address: its colons would read as a port
        raise invalid
    else:
        host, port, ipv6 = text, "", False
    if port and not 1 <= int(port) <= 65535:
        raise invalid
    if ipv6:
        try:
            validate_ipv6_address(host)
        except ValidationError:
            raise invalid from None
    elif not _is_host_name(host):
        try:
            validate_ipv4_address(host)
        except ValidationError:
            raise invalid from None


caller_id_validator = RegexValidator(
    r"^\+?[0-9]{2,20}$", _("A caller ID is a phone number: up to 20 digits.")
)


def validate_number_list(value: str) -> None:
    numbers = split_list(value)
    if not numbers:
        raise ValidationError(_("Enter at least one number."))
    for number in numbers:
        if not number.isdigit() or len(number) > 20:
            raise ValidationError(_("%(n)s is not a phone number.") % {"n": number})


class Extension(models.Model):
    """A SIP extension (分机) that a desk phone or softphone registers as."""

    number = models.CharField(
        _("extension number"),
        max_length=10,
        unique=True,
        validators=[extension_number_validator],
        error_messages={"unique": _("This extension number is already in use.")},
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    # Phones need the digest secret in clear to be configured, as with any PBX.
    password = models.CharField(_("SIP password"), max_length=64, default=generate_sip_password)
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["number"]
        default_permissions = ()
        permissions = [
            ("manage_telephony", _("Manage extensions and trunks")),
            ("view_switch", _("View the switch and phone registrations")),
        ]

    def __str__(self) -> str:
        return self.number


class Trunk(models.Model):
    """A carrier trunk peer that delivers hotline calls (and later carries outbound calls)."""

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("A trunk with this name already exists.")},
    )
    hosts = models.CharField(
        _("peer IP addresses"),
        max_length=500,
        validators=[validate_host_list],
        help_text=_("Calls are accepted from these addresses only; separate them with commas."),
    )
    numbers = models.CharField(
        _("hotline numbers"),
        max_length=500,
        validators=[validate_number_list],
        help_text=_("Numbers this trunk delivers to the hotline, e.g. 96000."),
    )
    username = models.CharField(
        _("digest user name"),
        max_length=100,
        blank=True,
        help_text=_("When set, calls from the trunk must also authenticate."),
    )
    password = models.CharField(_("digest password"), max_length=100, blank=True)
    # Outbound calls (click-to-dial, transfers to outside numbers): the first enabled trunk
    # with an outbound address carries them.
    outbound_address = models.CharField(
        _("outbound address"),
        max_length=255,
        blank=True,
        validators=[validate_outbound_address],
        help_text=_("Where outbound calls go: host or host:port. Empty: no outbound calls."),
    )
    caller_id = models.CharField(
        _("caller ID"),
        max_length=21,
        blank=True,
        validators=[caller_id_validator],
        help_text=_("The number the called party sees. Empty: the first hotline number."),
    )
    outbound_username = models.CharField(
        _("outbound digest user name"),
        max_length=100,
        blank=True,
        help_text=_("Empty: the digest user name above."),
    )
    outbound_password = models.CharField(_("outbound digest password"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("trunk")
        verbose_name_plural = _("trunks")
        ordering = ["name"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name

    @property
    def host_list(self) -> list[str]:
        return split_list(self.hosts)

    @property
    def number_list(self) -> list[str]:
        return split_list(self.numbers)


class CallRecord(models.Model):
    """A call detail record, written by the switch."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    call_id = models.CharField(_("call ID"), max_length=64, unique=True)
    sip_call_id = models.CharField(_("SIP Call-ID"), max_length=255, blank=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    caller = models.CharField(_("calling number"), max_length=64, db_index=True)
    callee = models.CharField(_("called number"), max_length=64, db_index=True)
    source = models.CharField(_("source address"), max_length=64, blank=True)
    trunk = models.CharField(_("trunk"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    end_cause = models.CharField(_("end cause"), max_length=200, blank=True)
    ivr_path = models.CharField(_("IVR path"), max_length=200, blank=True)
    queue = models.CharField(_("queue"), max_length=40, blank=True)
    agent_id = models.CharField(_("agent ID"), max_length=20, blank=True, db_index=True)
    agent_extension = models.CharField(_("agent extension"), max_length=20, blank=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    agent_answered_at = models.DateTimeField(_("answered by the agent"), null=True, blank=True)
    wait_seconds = models.FloatField(_("queue wait (seconds)"), null=True, blank=True)
    talk_seconds = models.FloatField(_("talk time (seconds)"), null=True, blank=True)
    hold_seconds = models.FloatField(_("time on hold (seconds)"), default=0)
    transfer_agent_id = models.CharField(_("transferred to agent"), max_length=20, blank=True)
    transfer_target = models.CharField(_("transferred to"), max_length=64, blank=True)
    transferred_at = models.DateTimeField(_("transferred"), null=True, blank=True)
    conference = models.BooleanField(_("three-party conference"), default=False)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        ordering = ["-started_at"]
        default_permissions = ()
        permissions = [("view_call_records", _("View call records"))]
        indexes = [
            models.Index(fields=["agent_id", "started_at"], name="cc_call_agent_started"),
            models.Index(fields=["outcome", "started_at"], name="cc_call_outcome_started"),
            models.Index(fields=["caller", "started_at"], name="cc_call_caller_started"),
            models.Index(fields=["callee", "started_at"], name="cc_call_callee_started"),
            models.Index(fields=["talk_seconds"], name="cc_call_talk"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.caller} → {self.callee}"

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


# --- part 2: queues, IVR flows, prompts, recordings, agent-state history ----------------------

queue_name_validator = RegexValidator(
    r"^[a-z][a-z0-9_-]{0,39}$",
    _("A queue name has lowercase letters, digits, - or _ and starts with a letter."),
)


class Queue(models.Model):
    """An ACD queue (队列): its members are agents (by user); the switch routes each caller to
    the member that has been idle longest."""

    class Overflow(models.TextChoices):
        NONE = "", _("Keep waiting")
        MESSAGE = "message", _("Play a message and hang up")
        VOICEMAIL = "voicemail", _("Take a voice message")
        TRANSFER = "transfer", _("Transfer to a number")

    name = models.CharField(
        _("queue name"), max_length=40, unique=True, validators=[queue_name_validator]
    )
    display_name = models.CharField(_("display name"), max_length=50)
    members = models.ManyToManyField(
        "accounts.User", verbose_name=_("members"), blank=True, related_name="queues"
    )
    wrap_up_seconds = models.PositiveIntegerField(
        _("after-call work limit (seconds)"),
        null=True,
        blank=True,
        help_text=_("Empty: the system parameter."),
    )
    ring_seconds = models.PositiveIntegerField(
        _("ring time (seconds)"), null=True, blank=True, help_text=_("Empty: the system parameter.")
    )
    max_wait_seconds = models.PositiveIntegerField(
        _("longest wait (seconds)"), null=True, blank=True
    )
    overflow = models.CharField(
        _("after the longest wait"), max_length=10, choices=Overflow.choices, blank=True
    )
    overflow_target = models.CharField(
        _("overflow target"),
        max_length=64,
        blank=True,
        help_text=_("The prompt name (message) or the number (transfer)."),
    )
    announce_seconds = models.PositiveIntegerField(
        _("announce the position every (seconds)"), default=30, help_text=_("0: never.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.display_name or self.name


class IvrFlow(models.Model):
    """The IVR flow (as data, schema in `aqualine.telephony.ivr.schema`) for a called number."""

    number = models.CharField(_("called number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    data = models.JSONField(_("flow"))
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("IVR flow")
        verbose_name_plural = _("IVR flows")
        ordering = ["number"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Recording(models.Model):
    """A recording the switch wrote (a call, or a message a caller left in the IVR)."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MESSAGE = "message", _("Voice message")

    call = models.ForeignKey(
        CallRecord,
        verbose_name=_("call"),
        on_delete=models.CASCADE,
        related_name="recordings",
        to_field="call_id",
        db_column="call_id",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    path = models.CharField(_("file"), max_length=255, unique=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    duration_seconds = models.FloatField(_("duration (seconds)"), default=0)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    complete = models.BooleanField(_("complete"), default=False)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.CharField(_("deleted by"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["-started_at"]
        default_permissions = ()
        permissions = [
            ("listen_recordings", _("Listen to the recordings of own calls")),
            ("listen_all_recordings", _("Listen to all recordings")),
            ("download_recordings", _("Download recordings")),
            ("delete_recordings", _("Delete recordings")),
        ]
        indexes = [
            # the retention policy looks for the oldest recordings not yet deleted
            models.Index(
                fields=["started_at"],
                condition=models.Q(deleted_at__isnull=True),
                name="cc_rec_kept_started",
            ),
        ]

    def __str__(self) -> str:
        return self.path


class AgentStateChange(models.Model):
    """One change of an agent's state (the agent-state history), with how long the state it
    left lasted: time in each state is the sum of `old_duration_seconds` by `old_state`."""

    agent_id = models.CharField(_("agent ID"), max_length=20, db_index=True)
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    old_state = models.CharField(_("previous state"), max_length=20, blank=True)
    old_reason = models.CharField(_("previous reason"), max_length=20, blank=True)
    old_duration_seconds = models.FloatField(_("time in previous state (seconds)"), default=0)
    new_state = models.CharField(_("state"), max_length=20)
    new_reason = models.CharField(_("reason"), max_length=20, blank=True)
    transition = models.CharField(_("transition"), max_length=30, blank=True)
    at = models.DateTimeField(_("time"), db_index=True)
    call_id = models.CharField(_("call ID"), max_length=64, blank=True)
    queue = models.CharField(_("queue"), max_length=40, blank=True)
    by = models.CharField(_("by"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("agent state change")
        verbose_name_plural = _("agent state changes")
        ordering = ["at", "id"]
        default_permissions = ()
        indexes = [models.Index(fields=["agent_id", "at"], name="cc_agent_state_at")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.old_state}→{self.new_state}"
