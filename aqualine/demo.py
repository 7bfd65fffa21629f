"""Demo data of ../shared/spec/domain.md: departments, one user per role, agents 1001–1004.

Idempotent: running it again creates only what is missing and never resets a password or
undoes an administrator's change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from aqualine.accounts.models import Department, Role, User
from aqualine.callcenter.models import Extension, IvrFlow, Queue, Trunk
from aqualine.core.models import Parameter
from aqualine.customers.demo import load_demo_customers

COMPANY = ("company", "示例市自来水公司")
DEPARTMENTS = (
    ("hotline", "热线中心"),
    ("repair", "管网维修部"),
    ("billing", "营业收费部"),
    ("quality", "水质监测中心"),
    ("service", "客户服务部"),
    ("secondary", "二次供水管理部"),
)


@dataclass(frozen=True)
class DemoUser:
    agent_id: str
    name: str
    department: str
    roles: tuple[str, ...]
    note: str


USERS = (
    DemoUser("admin", "系统管理员", "hotline", ("admin",), "系统管理员 administrator"),
    DemoUser(
        "1001", "张敏", "hotline", ("agent", "supervisor"), "话务员 + 热线班长 agent and supervisor"
    ),
    DemoUser("1002", "李娜", "hotline", ("agent",), "话务员 agent"),
    DemoUser("1003", "王磊", "hotline", ("agent",), "话务员 agent"),
    DemoUser("1004", "刘洋", "hotline", ("agent",), "话务员 agent"),
    DemoUser("2001", "陈静", "hotline", ("dispatcher",), "派单员/回访员 dispatcher"),
    DemoUser("3001", "赵强", "repair", ("handler",), "部门处理人 管网维修部"),
    DemoUser("3002", "孙丽", "billing", ("handler",), "部门处理人 营业收费部"),
    DemoUser("3003", "周涛", "quality", ("handler",), "部门处理人 水质监测中心"),
    DemoUser("3004", "吴芳", "service", ("handler",), "部门处理人 客户服务部"),
    DemoUser("3005", "郑凯", "secondary", ("handler",), "部门处理人 二次供水管理部"),
    DemoUser("9001", "黄总", "company", ("viewer",), "领导查询 read-only manager"),
)

EXTENSIONS = (("8001", "坐席 1"), ("8002", "坐席 2"), ("8003", "坐席 3"), ("8004", "坐席 4"))
DEMO_TRUNK = {"name": "demo-carrier", "hosts": "127.0.0.1", "numbers": "96000"}

PARAMETERS = {
    "basic.site_name": "水务客服热线",
    "basic.utility_name": "示例市自来水公司",
}


def load_demo() -> list[tuple[DemoUser, bool]]:
    """Create what is missing; return each demo user with whether it was created now."""
    with transaction.atomic():
        company, _created = Department.objects.get_or_create(
            code=COMPANY[0], defaults={"name": COMPANY[1]}
        )
        departments = {COMPANY[0]: company}
        for order, (code, name) in enumerate(DEPARTMENTS):
            departments[code], _created = Department.objects.get_or_create(
                code=code, defaults={"name": name, "parent": company, "sort_order": order}
            )
        roles = {r.code: r for r in Role.objects.exclude(code=None)}
        result = []
        for spec in USERS:
            user = User.objects.filter(agent_id=spec.agent_id).first()
            created = user is None
            if user is None:
                user = User.objects.create_user(
                    spec.agent_id,
                    settings.DEMO_PASSWORD,
                    name=spec.name,
                    department=departments[spec.department],
                )
                user.groups.set([roles[code] for code in spec.roles if code in roles])
            result.append((spec, created))
        for number, name in EXTENSIONS:
            Extension.objects.get_or_create(number=number, defaults={"display_name": name})
        Trunk.objects.get_or_create(name=DEMO_TRUNK["name"], defaults=DEMO_TRUNK)
        _load_demo_call_centre()
        for key, value in PARAMETERS.items():
            Parameter.objects.get_or_create(key=key, defaults={"value": value})
        load_demo_customers()
        from aqualine.knowledge.demo import load_demo_knowledge

        admin = User.objects.filter(agent_id="admin").first()
        if admin is not None:
            load_demo_knowledge(admin)
    from aqualine.core.parameters import invalidate_cache

    invalidate_cache()
    return result


def _load_demo_call_centre() -> None:
    """The hotline queue with the four demo agents, and the IVR flow of 96000 (domain.md)."""
    from aqualine.telephony.ivr.default_flow import default_flow_data

    queue, created = Queue.objects.get_or_create(
        name="hotline", defaults={"display_name": "热线队列", "announce_seconds": 30}
    )
    if created:
        queue.members.set(User.objects.filter(agent_id__in=["1001", "1002", "1003", "1004"]))
    IvrFlow.objects.get_or_create(
        number="96000", defaults={"name": "热线主流程", "data": default_flow_data()}
    )
