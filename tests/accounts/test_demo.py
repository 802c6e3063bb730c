"""The demo world: one user per role, able to walk a Guangdong → Shufu project, and an outsider who is not."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from accounts.demo import USERS
from accounts.models import Organization, Role, User
from accounts.selectors import organizations_in_scope, regions_in_scope, scope_for
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

CODES = {
    "440000": ("广东省", None, "province"),
    "440300": ("深圳市", "440000", "prefecture"),
    "440400": ("珠海市", "440000", "prefecture"),
    "320000": ("江苏省", None, "province"),
    "310000": ("上海市", None, "province"),
    "110000": ("北京市", None, "province"),
    "370000": ("山东省", None, "province"),
    "330000": ("浙江省", None, "province"),
    "650000": ("新疆维吾尔自治区", None, "province"),
    "653100": ("喀什地区", "650000", "prefecture"),
    "653121": ("疏附县", "653100", "county"),
    "653129": ("伽师县", "653100", "county"),
    "510000": ("四川省", None, "province"),
    "513200": ("阿坝藏族羌族自治州", "510000", "prefecture"),
    "513221": ("汶川县", "513200", "county"),
    "540000": ("西藏自治区", None, "province"),
    "540100": ("拉萨市", "540000", "prefecture"),
}


@pytest.fixture
def demo_regions(db):
    made = {}
    for code, (name, parent, level) in CODES.items():
        made[code] = RegionFactory(code=code, name=name, level=level, parent=made.get(parent) if parent else None)
    return made


def test_seed_demo_creates_one_user_per_role_with_the_documented_password(demo_regions):
    call_command("seed_demo", verbosity=0)
    for role in Role.values:
        user = User.objects.get(username=role)
        assert role in user.roles
        assert user.check_password("duikou-demo")
    assert User.objects.get(username="outsider").check_password("duikou-demo")
    assert User.objects.count() == len(USERS)


def test_seed_demo_twice_duplicates_nothing_and_restores_the_password(demo_regions):
    call_command("seed_demo", verbosity=0)
    user = User.objects.get(username="approver")
    user.set_password("changed-by-someone")
    user.save()
    call_command("seed_demo", verbosity=0)
    assert User.objects.count() == len(USERS)
    assert Organization.objects.filter(name="广东省人民政府").count() == 1
    assert User.objects.get(username="approver").check_password("duikou-demo")


def test_demo_users_can_walk_a_guangdong_shufu_project_and_the_outsider_cannot(demo_regions):
    call_command("seed_demo", verbosity=0)
    guangdong = Organization.objects.get(name="广东省人民政府")
    shufu = demo_regions["653121"]
    for name in ["assisting_officer", "approver", "supervisor"]:
        user = User.objects.get(username=name)
        assert guangdong in organizations_in_scope(user), name
    recipient = User.objects.get(username="recipient_officer")
    assert shufu in regions_in_scope(recipient)
    for name in ["national_coordinator", "evaluator", "observer"]:
        assert scope_for(User.objects.get(username=name)).is_national
    outsider = User.objects.get(username="outsider")
    assert guangdong not in organizations_in_scope(outsider)
    assert shufu not in regions_in_scope(outsider)


def test_seed_demo_without_regions_says_to_load_them_first(db):
    with pytest.raises(CommandError, match="load_regions"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()


@override_settings(DUIKOU_DEMO_ENABLED=False)
def test_seed_demo_refuses_outside_local_settings(demo_regions):
    with pytest.raises(CommandError, match="only for local"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()
