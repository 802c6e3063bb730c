"""The demo world of `make run`: the national office, assisting provinces and cities, recipient
governments, and one user per role. People and their names are synthetic; the governments are real parties."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from core.models import Region

from . import services
from .models import Organization, OrganizationKind, Role, RoleAssignment, User

K = OrganizationKind


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    name_en: str
    kind: str
    region: str | None
    parent: str | None = None


ORGANIZATIONS = [
    DemoOrg(
        "national", "国家对口支援协调办公室", "National Paired Assistance Coordination Office", K.CENTRAL_OFFICE, None
    ),
    DemoOrg("guangdong", "广东省人民政府", "Guangdong Provincial Government", K.PROVINCIAL_GOVERNMENT, "440000"),
    DemoOrg(
        "shenzhen", "深圳市人民政府", "Shenzhen Municipal Government", K.MUNICIPAL_GOVERNMENT, "440300", "guangdong"
    ),
    DemoOrg("zhuhai", "珠海市人民政府", "Zhuhai Municipal Government", K.MUNICIPAL_GOVERNMENT, "440400", "guangdong"),
    DemoOrg(
        "gd_hq",
        "广东省对口支援新疆工作前方指挥部",
        "Guangdong Front-line Headquarters for Xinjiang",
        K.AGENCY,
        None,
        "guangdong",
    ),
    DemoOrg("jiangsu", "江苏省人民政府", "Jiangsu Provincial Government", K.PROVINCIAL_GOVERNMENT, "320000"),
    DemoOrg("shanghai", "上海市人民政府", "Shanghai Municipal Government", K.PROVINCIAL_GOVERNMENT, "310000"),
    DemoOrg("beijing", "北京市人民政府", "Beijing Municipal Government", K.PROVINCIAL_GOVERNMENT, "110000"),
    DemoOrg("shandong", "山东省人民政府", "Shandong Provincial Government", K.PROVINCIAL_GOVERNMENT, "370000"),
    DemoOrg("zhejiang", "浙江省人民政府", "Zhejiang Provincial Government", K.PROVINCIAL_GOVERNMENT, "330000"),
    DemoOrg(
        "xinjiang",
        "新疆维吾尔自治区人民政府",
        "Xinjiang Uygur Autonomous Region Government",
        K.PROVINCIAL_GOVERNMENT,
        "650000",
    ),
    DemoOrg(
        "kashgar",
        "喀什地区行政公署",
        "Kashgar Prefecture Administrative Office",
        K.MUNICIPAL_GOVERNMENT,
        "653100",
        "xinjiang",
    ),
    DemoOrg("shufu", "疏附县人民政府", "Shufu County Government", K.COUNTY_GOVERNMENT, "653121", "kashgar"),
    DemoOrg("jiashi", "伽师县人民政府", "Jiashi County Government", K.COUNTY_GOVERNMENT, "653129", "kashgar"),
    DemoOrg("sichuan", "四川省人民政府", "Sichuan Provincial Government", K.PROVINCIAL_GOVERNMENT, "510000"),
    DemoOrg("wenchuan", "汶川县人民政府", "Wenchuan County Government", K.COUNTY_GOVERNMENT, "513221", "sichuan"),
    DemoOrg("xizang", "西藏自治区人民政府", "Xizang Autonomous Region Government", K.PROVINCIAL_GOVERNMENT, "540000"),
    DemoOrg("lhasa", "拉萨市人民政府", "Lhasa Municipal Government", K.MUNICIPAL_GOVERNMENT, "540100", "xizang"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    org: str
    roles: tuple[str, ...]
    last_name: str
    first_name: str
    language: str = "zh-hans"
    note: str = ""


# The life of a project in the Guangdong → Shufu pairing can be walked with these: the assisting officer,
# approver and supervisor act for Guangdong, the recipient officer for Shufu county; `outsider` is Jiangsu's.
USERS = [
    DemoUser("national_coordinator", "national", (Role.NATIONAL_COORDINATOR,), "王", "国华", note="national office"),
    DemoUser("assisting_officer", "guangdong", (Role.ASSISTING_OFFICER,), "陈", "志明", note="Guangdong"),
    DemoUser("recipient_officer", "shufu", (Role.RECIPIENT_OFFICER,), "艾", "力", note="Shufu county"),
    DemoUser("approver", "guangdong", (Role.APPROVER,), "林", "晓峰", note="Guangdong"),
    DemoUser("supervisor", "guangdong", (Role.SUPERVISOR,), "黄", "建军", note="Guangdong"),
    DemoUser("evaluator", "national", (Role.EVALUATOR,), "李", "静", "en", note="national office"),
    DemoUser("observer", "national", (Role.OBSERVER,), "赵", "敏", "en", note="national office"),
    DemoUser("outsider", "jiangsu", (Role.ASSISTING_OFFICER,), "周", "强", note="Jiangsu: no business with Shufu"),
]


class MissingRegions(Exception):
    pass


@transaction.atomic
def seed_demo() -> dict[str, int]:
    """Create (or complete) the demo organizations and users. Safe to run again: nothing is duplicated
    and a demo user's password and roles are set back to the documented ones."""
    codes = {o.region for o in ORGANIZATIONS if o.region}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    missing = sorted(codes - set(regions))
    if missing:
        raise MissingRegions(", ".join(missing))

    orgs: dict[str, Organization] = {}
    created_orgs = 0
    for spec in ORGANIZATIONS:
        existing = Organization.objects.filter(name=spec.name).first()
        if existing is None:
            existing = services.organization_create(
                by=None,
                name=spec.name,
                name_en=spec.name_en,
                kind=spec.kind,
                region=regions.get(spec.region) if spec.region else None,
                parent=orgs[spec.parent] if spec.parent else None,
            )
            created_orgs += 1
        orgs[spec.key] = existing

    created_users = 0
    for u in USERS:
        user = User.objects.filter(username=u.username).first()
        if user is None:
            services.user_create(
                by=None,
                username=u.username,
                organization=orgs[u.org],
                roles=u.roles,
                password=settings.DUIKOU_DEMO_PASSWORD,
                last_name=u.last_name,
                first_name=u.first_name,
                preferred_language=u.language,
            )
            created_users += 1
        else:
            user.set_password(settings.DUIKOU_DEMO_PASSWORD)
            user.organization = orgs[u.org]
            user.is_active = True
            user.save(update_fields=["password", "organization", "is_active"])
            RoleAssignment.objects.filter(user=user).exclude(role__in=u.roles).delete()
            for role in u.roles:
                RoleAssignment.objects.get_or_create(user=user, role=role)
    return {"organizations": created_orgs, "users": created_users}
