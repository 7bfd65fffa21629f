"""Writes of the call-centre app: extensions and trunks (the switch reads them at once)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from aqualine.accounts.models import User
from aqualine.callcenter.models import Extension, Trunk, generate_sip_password
from aqualine.core.audit import audit_record, changes
from aqualine.core.concurrency import claim_version, unique_or


def _extension_snapshot(ext: Extension) -> dict[str, Any]:
    return {"number": ext.number, "display_name": ext.display_name, "enabled": ext.enabled}


def extension_create(
    *,
    actor: User,
    number: str,
    display_name: str = "",
    enabled: bool = True,
    request: HttpRequest | None = None,
) -> Extension:
    with transaction.atomic():
        number_taken = ValidationError({"number": _("This extension number is already in use.")})
        if Extension.objects.filter(number=number).exists():
            raise number_taken
        with unique_or(number_taken):
            ext = Extension.objects.create(
                number=number,
                display_name=display_name,
                enabled=enabled,
                password=generate_sip_password(),
            )
        audit_record(
            actor=actor,
            action="extension.create",
            target=ext,
            data={"values": _extension_snapshot(ext)},
            request=request,
        )
    return ext


def extension_update(
    *,
    actor: User,
    extension: Extension,
    version: int,
    display_name: str,
    enabled: bool,
    new_password: bool = False,
    request: HttpRequest | None = None,
) -> Extension:
    with transaction.atomic():
        before = _extension_snapshot(extension)
        claim_version(extension, version)
        extension.display_name = display_name
        extension.enabled = enabled
        fields = ["display_name", "enabled", "updated_at"]
        if new_password:
            extension.password = generate_sip_password()
            fields.append("password")
        extension.save(update_fields=fields)
        diff = changes(before, _extension_snapshot(extension))
        if new_password:
            diff["password"] = ["***", "***"]
        if diff:
            audit_record(
                actor=actor,
                action="extension.update",
                target=extension,
                data={"changes": diff},
                request=request,
            )
    return extension


def _trunk_snapshot(trunk: Trunk) -> dict[str, Any]:
    return {
        "name": trunk.name,
        "hosts": trunk.hosts,
        "numbers": trunk.numbers,
        "username": trunk.username,
        "outbound_address": trunk.outbound_address,
        "caller_id": trunk.caller_id,
        "outbound_username": trunk.outbound_username,
        "enabled": trunk.enabled,
    }


def trunk_save(
    *,
    actor: User,
    trunk: Trunk | None,
    version: int | None,
    name: str,
    hosts: str,
    numbers: str,
    username: str,
    password: str,
    enabled: bool,
    outbound_address: str = "",
    caller_id: str = "",
    outbound_username: str = "",
    outbound_password: str = "",
    request: HttpRequest | None = None,
) -> Trunk:
    """Create a trunk (trunk=None) or update one; an empty password (either of them) keeps
    the old one."""
    with transaction.atomic():
        clash = Trunk.objects.filter(name=name)
        if trunk is not None:
            clash = clash.exclude(pk=trunk.pk)
        name_taken = ValidationError({"name": _("A trunk with this name already exists.")})
        if clash.exists():
            raise name_taken
        creating = trunk is None
        before = _trunk_snapshot(trunk) if trunk is not None else {}
        if trunk is None:
            trunk = Trunk(
                name=name,
                hosts=hosts,
                numbers=numbers,
                username=username,
                password=password,
                enabled=enabled,
                outbound_address=outbound_address,
                caller_id=caller_id,
                outbound_username=outbound_username,
                outbound_password=outbound_password,
            )
            with unique_or(name_taken):
                trunk.save()
        else:
            claim_version(trunk, version or 0)
            trunk.name, trunk.hosts, trunk.numbers = name, hosts, numbers
            trunk.username, trunk.enabled = username, enabled
            trunk.outbound_address, trunk.caller_id = outbound_address, caller_id
            trunk.outbound_username = outbound_username
            if password:
                trunk.password = password
            if outbound_password:
                trunk.outbound_password = outbound_password
            with unique_or(name_taken):
                trunk.save()
        after = _trunk_snapshot(trunk)
        if creating:
            audit_record(
                actor=actor,
                action="trunk.create",
                target=trunk,
                data={"values": after},
                request=request,
            )
        else:
            diff = changes(before, after)
            if password:
                diff["password"] = ["***", "***"]
            if outbound_password:
                diff["outbound_password"] = ["***", "***"]
            if diff:
                audit_record(
                    actor=actor,
                    action="trunk.update",
                    target=trunk,
                    data={"changes": diff},
                    request=request,
                )
    return trunk
