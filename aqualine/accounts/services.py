"""Writes of the accounts app: staff, departments, roles. Each runs in one transaction and
writes its audit row; views validate input and turn ValidationError/ConflictError into
messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from aqualine.accounts.models import Department, Role, User
from aqualine.core.audit import audit_record, changes
from aqualine.core.concurrency import claim_version, unique_or


def _role_permissions(roles: Iterable[Role]) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for role in roles
        for p in role.permissions.select_related("content_type")
    }


def _permission_names(perms: Iterable[Permission]) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


def _check_may_grant(actor: User, permissions: set[str], field: str) -> None:
    """Nobody hands out a permission they do not hold themselves."""
    if actor.is_superuser:
        return
    if permissions - actor.get_all_permissions():
        raise ValidationError(
            {field: _("You cannot give permissions that you do not hold yourself.")}
        )


def _check_may_manage(actor: User, user: User) -> None:
    """Nobody changes (or resets the password of) someone who holds more rights than they do."""
    if actor.is_superuser or actor.pk == user.pk:
        return
    if user.is_superuser or not user.get_all_permissions() <= actor.get_all_permissions():
        raise ValidationError(
            _("You cannot change a staff member who holds permissions that you do not hold.")
        )


def _check_an_administrator_remains() -> None:
    """At least one active person must still be able to manage roles and staff."""
    admins = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True)
        | Q(
            groups__permissions__codename="manage_roles",
            groups__permissions__content_type__app_label="accounts",
        )
    )
    if not admins.exists():
        raise ValidationError(
            _("At least one active staff member must keep the right to manage roles.")
        )


def _staff_snapshot(user: User) -> dict[str, Any]:
    return {
        "agent_id": user.agent_id,
        "name": user.name,
        "phone": user.phone,
        "department": str(user.department) if user.department_id else "",
        "roles": sorted(g.name for g in user.groups.all()),
        "is_active": user.is_active,
    }


def staff_create(
    *,
    actor: User,
    agent_id: str,
    name: str,
    password: str,
    phone: str = "",
    department: Department | None = None,
    roles: Iterable[Role] = (),
    request: HttpRequest | None = None,
) -> User:
    roles = list(roles)
    _check_may_grant(actor, _role_permissions(roles), "roles")
    duplicate = ValidationError(
        {"agent_id": _("A staff member with this agent ID already exists.")}
    )
    with transaction.atomic():
        if User.objects.filter(agent_id__iexact=agent_id).exists():
            raise duplicate
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    agent_id, password, name=name, phone=phone, department=department
                )
        except IntegrityError:  # created by someone else a moment ago
            raise duplicate from None
        user.groups.set(list(roles))
        audit_record(
            actor=actor,
            action="staff.create",
            target=user,
            data={"values": _staff_snapshot(user)},
            request=request,
        )
    return user


def staff_update(
    *,
    actor: User,
    user: User,
    version: int,
    name: str,
    phone: str,
    department: Department | None,
    roles: Iterable[Role],
    request: HttpRequest | None = None,
) -> User:
    roles = list(roles)
    _check_may_manage(actor, user)
    added = [r for r in roles if not user.groups.filter(pk=r.pk).exists()]
    _check_may_grant(actor, _role_permissions(added), "roles")
    if department is not None and not department.is_active and department.pk != user.department_id:
        raise ValidationError({"department": _("This department is deactivated.")})
    with transaction.atomic():
        before = _staff_snapshot(user)
        claim_version(user, version)
        user.name = name
        user.phone = phone
        user.department = department
        user.save(update_fields=["name", "phone", "department"])
        user.groups.set(roles)
        _check_an_administrator_remains()
        diff = changes(before, _staff_snapshot(user))
        if diff:
            audit_record(
                actor=actor,
                action="staff.update",
                target=user,
                data={"changes": diff},
                request=request,
            )
    return user


def staff_set_password(
    *, actor: User, user: User, password: str, request: HttpRequest | None = None
) -> None:
    _check_may_manage(actor, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        # A reset also lifts a login lock caused by repeated failures.
        axes_reset(username=user.agent_id)
        audit_record(actor=actor, action="staff.password_reset", target=user, request=request)


def staff_set_active(
    *, actor: User, user: User, active: bool, version: int, request: HttpRequest | None = None
) -> None:
    if not active and user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    _check_may_manage(actor, user)
    if active and user.department is not None and not user.department.is_active:
        raise ValidationError(
            _("%(user)s belongs to a deactivated department; move them first.") % {"user": user}
        )
    with transaction.atomic():
        claim_version(user, version)
        user.is_active = active
        user.save(update_fields=["is_active"])
        _check_an_administrator_remains()
        audit_record(
            actor=actor,
            action="staff.activate" if active else "staff.deactivate",
            target=user,
            request=request,
        )


def own_password_changed(*, user: User, request: HttpRequest | None = None) -> None:
    audit_record(actor=user, action="auth.password_changed", target=user, request=request)


def _department_snapshot(department: Department) -> dict[str, Any]:
    return {
        "name": department.name,
        "code": department.code,
        "parent": str(department.parent) if department.parent_id else "",
        "phone": department.phone,
        "sort_order": department.sort_order,
        "is_active": department.is_active,
    }


def _check_parent(department: Department, parent: Department | None) -> None:
    if parent is None:
        return
    if department.pk is not None and (
        parent.pk == department.pk or department in parent.ancestors()
    ):
        raise ValidationError(
            {"parent": _("A department cannot be moved under itself or one of its own units.")}
        )
    if not parent.is_active:
        raise ValidationError({"parent": _("The parent department is deactivated.")})


def _check_sibling_name(department: Department, name: str, parent: Department | None) -> None:
    siblings = Department.objects.filter(parent=parent, name=name)
    if department.pk is not None:
        siblings = siblings.exclude(pk=department.pk)
    if siblings.exists():
        raise ValidationError(
            {"name": _("Another department with this name already exists at this level.")}
        )


def department_create(
    *,
    actor: User,
    name: str,
    code: str,
    parent: Department | None = None,
    phone: str = "",
    sort_order: int = 0,
    request: HttpRequest | None = None,
) -> Department:
    department = Department(name=name, code=code, parent=parent, phone=phone, sort_order=sort_order)
    with transaction.atomic():
        _check_parent(department, parent)
        _check_sibling_name(department, name, parent)
        code_taken = ValidationError({"code": _("Another department already uses this code.")})
        if Department.objects.filter(code=code).exists():
            raise code_taken
        with unique_or(code_taken):
            department.save()
        audit_record(
            actor=actor,
            action="department.create",
            target=department,
            data={"values": _department_snapshot(department)},
            request=request,
        )
    return department


def department_update(
    *,
    actor: User,
    department: Department,
    version: int,
    name: str,
    code: str,
    parent: Department | None,
    phone: str,
    sort_order: int,
    request: HttpRequest | None = None,
) -> Department:
    with transaction.atomic():
        # Moves are checked against the whole tree: lock it, so that two moves at once cannot
        # make a cycle between them (the tree is small).
        list(Department.objects.select_for_update().values_list("pk", flat=True))
        department.refresh_from_db(fields=["parent", "is_active"])
        if parent is not None:
            parent.refresh_from_db(fields=["parent", "is_active"])
        before = _department_snapshot(department)
        _check_parent(department, parent)
        _check_sibling_name(department, name, parent)
        if Department.objects.filter(code=code).exclude(pk=department.pk).exists():
            raise ValidationError({"code": _("Another department already uses this code.")})
        claim_version(department, version)
        department.name = name
        department.code = code
        department.parent = parent
        department.phone = phone
        department.sort_order = sort_order
        department.save(
            update_fields=["name", "code", "parent", "phone", "sort_order", "updated_at"]
        )
        diff = changes(before, _department_snapshot(department))
        if diff:
            audit_record(
                actor=actor,
                action="department.update",
                target=department,
                data={"changes": diff},
                request=request,
            )
    return department


def department_set_active(
    *,
    actor: User,
    department: Department,
    active: bool,
    version: int,
    request: HttpRequest | None = None,
) -> None:
    with transaction.atomic():
        if not active:
            if department.members.filter(is_active=True).exists():
                raise ValidationError(
                    _("This department still has active staff; move or deactivate them first.")
                )
            if department.children.filter(is_active=True).exists():
                raise ValidationError(
                    _("This department still has active sub-departments; deactivate them first.")
                )
        elif department.parent is not None and not department.parent.is_active:
            raise ValidationError(_("Reactivate the parent department first."))
        claim_version(department, version)
        department.is_active = active
        department.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="department.activate" if active else "department.deactivate",
            target=department,
            request=request,
        )


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in role.permissions.select_related("content_type")
        ),
    }


def role_create(
    *,
    actor: User,
    name: str,
    description: str = "",
    permissions: Iterable[Permission] = (),
    request: HttpRequest | None = None,
) -> Role:
    permissions = list(permissions)
    _check_may_grant(actor, _permission_names(permissions), "permissions")
    with transaction.atomic():
        name_taken = ValidationError({"name": _("A role with this name already exists.")})
        if Role.objects.filter(name=name).exists():
            raise name_taken
        with unique_or(name_taken):
            role = Role.objects.create(name=name, description=description)
        role.permissions.set(list(permissions))
        audit_record(
            actor=actor,
            action="role.create",
            target=role,
            data={"values": _role_snapshot(role)},
            request=request,
        )
    return role


def role_update(
    *,
    actor: User,
    role: Role,
    version: int,
    name: str,
    description: str,
    permissions: Iterable[Permission],
    request: HttpRequest | None = None,
) -> Role:
    permissions = list(permissions)
    current = _permission_names(role.permissions.select_related("content_type"))
    _check_may_grant(actor, _permission_names(permissions) - current, "permissions")
    with transaction.atomic():
        if Role.objects.filter(name=name).exclude(pk=role.pk).exists():
            raise ValidationError({"name": _("A role with this name already exists.")})
        before = _role_snapshot(role)
        claim_version(role, version)
        role.name = name
        role.description = description
        role.save(update_fields=["name", "description"])
        role.permissions.set(permissions)
        _check_an_administrator_remains()
        diff = changes(before, _role_snapshot(role))
        if diff:
            audit_record(
                actor=actor,
                action="role.update",
                target=role,
                data={"changes": diff},
                request=request,
            )
    return role


def role_delete(*, actor: User, role: Role, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        holders = User.objects.filter(groups=role)
        count = holders.count()
        if count:
            names = ", ".join(str(u) for u in holders[:5])
            raise ValidationError(
                _(
                    "This role is still held by %(count)d staff member(s) (%(names)s); "
                    "remove it from them first."
                )
                % {"count": count, "names": names}
            )
        audit_record(
            actor=actor,
            action="role.delete",
            target=role,
            data={"values": _role_snapshot(role)},
            request=request,
        )
        role.delete()
