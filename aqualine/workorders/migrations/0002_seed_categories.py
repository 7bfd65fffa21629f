"""Seed the demo category tree of domain.md (反映类别 → 反映内容). Administrators may change it.

Default departments are stored as department codes and resolved at dispatch time: the
departments may not exist when this runs.
"""

from django.db import migrations

# code, name, department code, hours, [(code, name, hours or None: the parent's)]
CATEGORIES = [
    ("no-water", "停水", "repair", 4, [
        ("no-water-sudden", "突发停水", None),
        ("no-water-planned", "计划停水咨询", None),
        ("no-water-arrears", "欠费停水", None),
    ]),
    ("pressure", "水压", "secondary", 24, [
        ("pressure-low", "水压低", None),
        ("pressure-unstable", "水压不稳", None),
    ]),
    ("leak", "漏水", "repair", 24, [
        ("leak-burst", "爆管", 2),
        ("leak-pipe", "管道漏水", None),
        ("leak-valve", "阀门漏水", None),
        ("leak-before-meter", "表前漏水", None),
    ]),
    ("quality", "水质", "quality", 24, [
        ("quality-turbid", "水浑浊", None),
        ("quality-odour", "有异味", None),
        ("quality-colour", "有颜色", None),
    ]),
    ("meter", "水表", "billing", 48, [
        ("meter-damaged", "水表损坏", None),
        ("meter-frozen", "水表冻裂", None),
        ("meter-reading", "读数异常", None),
        ("meter-replace", "换表", None),
    ]),
    ("billing", "缴费", "billing", 72, [
        ("billing-query", "水费查询", None),
        ("billing-methods", "缴费方式", None),
        ("billing-dispute", "水费异议", None),
        ("billing-arrears", "欠费", None),
    ]),
    ("connection", "报装", "service", 120, [
        ("connection-new", "新装", None),
        ("connection-transfer", "过户", None),
        ("connection-close", "销户", None),
    ]),
    ("consultation", "咨询", "service", 72, []),
    ("suggestion", "建议", "service", 72, []),
    ("complaint", "投诉", "service", 120, []),
    ("praise", "表扬", "service", 72, []),
]


def seed(apps, schema_editor):
    Category = apps.get_model("workorders", "Category")
    for order, (code, name, department, hours, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "default_department_code": department,
                "time_limit_hours": hours,
                "sort_order": order,
            },
        )
        for child_order, (child_code, child_name, child_hours) in enumerate(children):
            Category.objects.get_or_create(
                code=child_code,
                defaults={
                    "parent": parent,
                    "name": child_name,
                    "time_limit_hours": child_hours,
                    "sort_order": child_order,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
