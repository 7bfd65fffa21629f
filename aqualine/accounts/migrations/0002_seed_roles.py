"""Seed the standard roles (roles are data; administrators may change them afterwards)."""

from aqualine.core.migration_helpers import ensure_permissions
from django.db import migrations

ROLES = [
    # code, name, description, permissions (app_label.codename)
    ("admin", "系统管理员", "管理员工、部门、角色、系统参数，查看审计日志", [
        "accounts.manage_staff", "accounts.manage_departments", "accounts.manage_roles",
        "core.manage_parameters", "core.view_audit_log",
    ]),
    ("supervisor", "热线班长", "监控坐席与队列，管理工单与录音", ["core.view_audit_log"]),
    ("agent", "话务员", "接听来电，受理、派发、催办工单", []),
    ("dispatcher", "派单员/回访员", "派单、退单处理、回访", []),
    ("handler", "部门处理人", "签收、勘查、处理本部门工单", []),
    ("viewer", "领导查询", "只读查询工单与报表", []),
]


def seed(apps, schema_editor):
    ensure_permissions(apps)
    Role = apps.get_model("accounts", "Role")
    Permission = apps.get_model("auth", "Permission")
    for order, (code, name, description, perms) in enumerate(ROLES):
        role, created = Role.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "sort_order": order}
        )
        if not created:
            continue
        for dotted in perms:
            app_label, codename = dotted.split(".")
            role.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
