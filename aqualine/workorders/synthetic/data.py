"""The words and proportions of the synthetic work orders: category volumes and seasons, who
answers what at intake, sources, busy hours, and the texts of descriptions, surveys, results,
reasons and notes. The Chinese words here are data (what a hotline's records look like), not
interface text."""

from __future__ import annotations

from collections.abc import Callable

from aqualine.workorders.models import WorkOrder

Source = WorkOrder.Source

# Relative yearly volume of each seeded leaf category (an unknown code weighs 1).
CATEGORY_WEIGHTS = {
    "no-water-sudden": 6,
    "no-water-planned": 5,
    "no-water-arrears": 2,
    "pressure-low": 6,
    "pressure-unstable": 2,
    "leak-burst": 2,
    "leak-pipe": 9,
    "leak-valve": 3,
    "leak-before-meter": 4,
    "quality-turbid": 4,
    "quality-odour": 1.5,
    "quality-colour": 1.5,
    "meter-damaged": 3,
    "meter-frozen": 2,
    "meter-reading": 5,
    "meter-replace": 2,
    "billing-query": 10,
    "billing-methods": 5,
    "billing-dispute": 4,
    "billing-arrears": 3,
    "connection-new": 2,
    "connection-transfer": 2.5,
    "connection-close": 1,
    "consultation": 8,
    "suggestion": 1,
    "complaint": 2,
    "praise": 0.7,
}
WINTER, SUMMER = (12, 1, 2), (6, 7, 8, 9)
# Seasonal factor of a category in a month: frozen meters in winter, low pressure in summer.
SEASONS: dict[str, Callable[[int], float]] = {
    "meter-frozen": lambda m: 6.0 if m in WINTER else (1.0 if m in (3, 11) else 0.05),
    "leak-burst": lambda m: 2.0 if m in WINTER else 1.0,
    "pressure-low": lambda m: 1.6 if m in SUMMER else 1.0,
    "no-water-sudden": lambda m: 1.4 if m in SUMMER else 1.0,
}
# Share of a category's calls that the agent answers at once (直接办结, no department).
ANSWERED_AT_INTAKE = {
    "consultation": 0.75,
    "billing-query": 0.7,
    "billing-methods": 0.85,
    "billing-arrears": 0.4,
    "no-water-planned": 0.8,
    "no-water-arrears": 0.3,
    "connection-new": 0.3,
    "connection-transfer": 0.3,
    "connection-close": 0.3,
    "suggestion": 0.3,
    "praise": 0.6,
}
ANSWERED_AT_INTAKE_DEFAULT = 0.02
# (critical, urgent) shares of a category's orders, by code or top-level code.
URGENCY = {
    "leak-burst": (0.6, 0.35),
    "no-water-sudden": (0.1, 0.5),
    "leak": (0.0, 0.2),
    "quality": (0.0, 0.15),
}
URGENCY_DEFAULT = (0.005, 0.03)
# Departments that often work together on an order (联合处理), by department code.
PARTNERS = {
    "repair": ("secondary", "billing", "service"),
    "quality": ("repair", "secondary"),
    "secondary": ("repair", "quality"),
    "billing": ("service", "repair"),
    "service": ("billing", "repair"),
}
SOURCES = (
    (Source.PHONE, 68),
    (Source.CITY_12345, 12),
    (Source.WECHAT, 10),
    (Source.WEB, 4),
    (Source.IVR, 3),
    (Source.WALK_IN, 3),
)
HOUR_WEIGHTS = (
    1,
    0.5,
    0.3,
    0.3,
    0.3,
    0.5,
    1.5,
    4,
    8,
    10,
    10,
    9,
    6,
    7,
    9,
    9,
    8,
    7,
    5,
    4,
    3.5,
    3,
    2,
    1.5,
)
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.75, 0.65)
MONTH_WEIGHTS = {1: 1.15, 2: 1.1, 7: 1.25, 8: 1.25, 12: 1.1}
LANDLINE_PREFIX = "0571"  # 示例市's area code (landlines keep it, see normalize_phone)

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "no-water-sudden": (
        "家中突然停水，没有接到停水通知",
        "整栋楼都没水了，请尽快派人查看",
        "{place}一带停水，小区里很多户都没水",
        "早上起来就没水，邻居家也没有",
    ),
    "no-water-planned": (
        "询问{place}计划停水的时间",
        "看到停水通知，想确认几点恢复供水",
        "询问停水期间是否安排送水车",
    ),
    "no-water-arrears": ("家里被停水，询问是否因为欠费，缴费后多久恢复",),
    "pressure-low": (
        "高层水压低，热水器打不着火",
        "早晚用水高峰水压很小，出水很细",
        "{place}顶楼几户水压一直偏低",
    ),
    "pressure-unstable": ("水压忽大忽小，水管有异响", "用水时水压不稳，时有时无"),
    "leak-burst": (
        "{place}路边水管爆裂，水往外冒，路面积水",
        "{place}地下管道爆管，水流很大，请马上派人",
        "{place}门口爆管，水已经漫到马路上",
    ),
    "leak-pipe": (
        "{place}地面一直冒水，疑似地下管道漏水",
        "楼道水管接口漏水，地面有积水",
        "{place}绿化带里一直有水渗出来",
    ),
    "leak-valve": ("{place}阀门井漏水，阀门关不严", "小区总阀门处滴水不止"),
    "leak-before-meter": ("水表前端接口滴水，水表箱里有积水", "表前阀门漏水，关不住"),
    "quality-turbid": ("自来水发黄浑浊，放了很久还是黄的", "水里有沉淀物，不敢饮用"),
    "quality-odour": ("自来水有异味，烧开后还有味道", "水有一股消毒水味，比平时重"),
    "quality-colour": ("水龙头放出的水发白，询问是否正常", "自来水有点发红，担心管道生锈"),
    "meter-damaged": ("水表表盘玻璃破裂，看不清读数", "水表被车撞坏，表箱变形"),
    "meter-frozen": ("天冷水表冻裂，表箱漏水", "水表冻住了，家里没水"),
    "meter-reading": (
        "本月水量突然比平时多了一倍，怀疑水表读数有问题",
        "家里没人住，水表还在走",
    ),
    "meter-replace": ("申请更换老旧水表", "水表用了十几年，申请换智能表"),
    "billing-query": ("查询本月水费金额", "查询是否有欠费", "查询上个月缴费是否到账"),
    "billing-methods": ("询问微信、支付宝缴费方式", "询问能否办理银行代扣", "询问营业厅缴费时间"),
    "billing-dispute": ("对本月水费有异议，用水量和平时一样水费却很高", "水费被重复扣款"),
    "billing-arrears": ("收到欠费通知，询问欠费金额和滞纳金", "询问欠费停水前会不会通知"),
    "connection-new": ("新房申请报装自来水，询问所需材料和费用", "商铺申请新装水表"),
    "connection-transfer": ("房屋买卖，申请水表过户", "询问过户需要带什么材料"),
    "connection-close": ("房屋拆迁，申请销户", "商铺停业，申请销户退表"),
    "consultation": (
        "咨询阶梯水价标准",
        "咨询营业厅地址和上班时间",
        "咨询二次供水水箱清洗时间",
        "咨询用水户名变更手续",
    ),
    "suggestion": ("建议停水通知提前发短信", "建议增加线上缴费渠道"),
    "complaint": (
        "维修后路面没有恢复，投诉施工单位",
        "营业厅工作人员态度不好",
        "报修两天了还没人来，投诉处理太慢",
    ),
    "praise": ("表扬维修师傅连夜抢修，服务很好", "表扬营业厅工作人员耐心细致"),
}
DESCRIPTION_FALLBACK = ("用户来电反映问题，请相关部门处理",)
SURVEYS = {
    "repair": (
        "已到现场查看，DN100管道接口渗漏，需开挖维修",
        "已到现场，阀门井内阀门老化漏水",
        "现场查看，表前管道锈蚀穿孔",
    ),
    "quality": ("已到现场取样，水样浑浊度偏高", "现场放水检测，余氯偏高"),
    "secondary": ("已检查加压泵房，一台水泵故障", "已查看水箱，水位正常，减压阀故障"),
    "billing": ("已上门核对水表读数", "已上门查看水表，表盘破损"),
}
RESULTS = {
    "repair": (
        "已更换漏水管段，恢复供水",
        "已紧固阀门，漏水已止住",
        "已抢修完毕，路面已回填",
        "已更换表前阀门，恢复正常",
    ),
    "billing": (
        "已核实抄表数据，读数正确，已向用户解释",
        "已为用户更换水表",
        "已重新核算水费并退还多收费用",
    ),
    "quality": ("已现场取样检测，各项指标合格，建议放水后使用", "已对管网冲洗，水质恢复正常"),
    "service": (
        "已电话回复用户，解释相关政策",
        "已办理相关手续，用户认可",
        "已向用户致歉并说明情况",
    ),
    "secondary": ("已维修加压泵，水压恢复正常", "已清洗水箱，恢复供水", "已调整减压阀，水压正常"),
}
RESULT_FALLBACK = ("已处理完毕",)
RETURN_REASONS = (
    "非本部门职责范围，请改派",
    "属于小区物业管辖的内部管网，请改派",
    "地址不详，联系不上报修人",
)
INTAKE_ANSWERS = (
    "已解答用户咨询",
    "已告知缴费方式",
    "已告知计划停水和恢复供水时间",
    "已记录并转达",
)
URGE_NOTES = ("用户来电催办", "", "用户再次来电询问处理进度")
FOLLOW_UP_NOTES = ("", "", "用户表示满意", "已恢复正常，用户满意")
UNSATISFIED_NOTES = ("用户反映问题仍未解决", "用户对处理时间不满意")
REDO_NOTES = ("回访不满意，重新处理", "用户来电反映问题复发")
SPOTS = ("门口", "东门", "南门", "3栋旁", "路口", "停车场", "对面", "北侧绿化带")
LOCATED = ("no-water", "pressure", "leak", "quality")  # categories that need a place
