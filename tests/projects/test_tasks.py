"""notify_transition: after an action, one mail to each official whose turn it is — holding a next role, active,
with an e-mail address, and seeing the project — written in that official's language."""

import pytest
from django.utils import translation

from accounts.models import Role
from projects import services, tasks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def official(username: str, organization, *roles: str, email: str = "", language: str = "en", **kw):
    return UserFactory(
        username=username,
        organization=organization,
        roles=list(roles),
        email=email,
        preferred_language=language,
        **kw,
    )


@pytest.fixture
def proposed(world, draft):
    services.project_submit(project=draft, by=world.assisting)
    return draft


def test_a_submitted_project_is_announced_to_each_approver_who_sees_it(world, proposed, mailoutbox):
    official("gd-approver", world.guangdong_gov, Role.APPROVER, email="approver@gd.example.cn")
    official("sf-approver", world.shufu_gov, Role.APPROVER, email="approver@sf.example.cn", language="zh-hans")

    sent = tasks.notify_transition(proposed.pk, "submit")

    assert sent == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["approver@gd.example.cn", "approver@sf.example.cn"]
    assert all(len(m.to) == 1 and proposed.code in m.subject for m in mailoutbox)


def test_officials_out_of_scope_without_email_inactive_or_of_another_role_are_not_told(world, proposed, mailoutbox):
    official("gd-approver", world.guangdong_gov, Role.APPROVER, email="approver@gd.example.cn")
    official("js-approver", world.jiangsu_gov, Role.APPROVER, email="approver@js.example.cn")
    official("gd-approver-no-mail", world.guangdong_gov, Role.APPROVER)
    official("gd-approver-gone", world.guangdong_gov, Role.APPROVER, email="gone@gd.example.cn", is_active=False)
    official("gd-supervisor", world.guangdong_gov, Role.SUPERVISOR, email="supervisor@gd.example.cn")
    world.assisting.email = "alice@gd.example.cn"
    world.assisting.save(update_fields=["email"])

    sent = tasks.notify_transition(proposed.pk, "submit")

    assert sent == 1
    assert [m.to for m in mailoutbox] == [["approver@gd.example.cn"]]


def test_the_proposer_who_is_also_an_approver_is_not_asked_to_approve(world, draft, mailoutbox):
    both = official("gd-both", world.guangdong_gov, Role.ASSISTING_OFFICER, Role.APPROVER, email="both@gd.example.cn")
    official("gd-approver", world.guangdong_gov, Role.APPROVER, email="approver@gd.example.cn")
    services.project_submit(project=draft, by=both)

    assert tasks.notify_transition(draft.pk, "submit") == 1
    assert [m.to for m in mailoutbox] == [["approver@gd.example.cn"]]


def test_a_national_official_in_the_next_role_is_told_too(world, proposed, mailoutbox):
    official("national-approver", world.national_office, Role.APPROVER, email="approver@gov.example.cn")

    assert tasks.notify_transition(proposed.pk, "submit") == 1
    assert [m.to for m in mailoutbox] == [["approver@gov.example.cn"]]


@pytest.mark.parametrize(
    ("action", "told"),
    [
        ("return", {"alice@gd.example.cn", "bob@sf.example.cn"}),
        ("approve", {"alice@gd.example.cn"}),
        ("complete", {"supervisor@gd.example.cn"}),
        ("reopen", {"alice@gd.example.cn"}),
        ("accept", {"evaluator@gov.example.cn"}),
        ("reject", set()),
        ("cancel", set()),
    ],
)
def test_each_action_tells_the_roles_that_act_next(world, draft, mailoutbox, action, told):
    for user, email in ((world.assisting, "alice@gd.example.cn"), (world.recipient, "bob@sf.example.cn")):
        user.email = email
        user.save(update_fields=["email"])
    official("gd-supervisor", world.guangdong_gov, Role.SUPERVISOR, email="supervisor@gd.example.cn")
    official("evaluator", world.national_office, Role.EVALUATOR, email="evaluator@gov.example.cn")

    sent = tasks.notify_transition(draft.pk, action)

    assert sent == len(told)
    assert {m.to[0] for m in mailoutbox} == told


def test_the_mail_is_written_in_each_officials_language(world, proposed, mailoutbox, monkeypatch):
    official("gd-approver-en", world.guangdong_gov, Role.APPROVER, email="en@gd.example.cn", language="en")
    official("gd-approver-zh", world.guangdong_gov, Role.APPROVER, email="zh@gd.example.cn", language="zh-hans")
    languages: dict[str, str | None] = {}
    real_send_mail = tasks.send_mail

    def recording_send_mail(*args, **kwargs):
        languages[kwargs["recipient_list"][0]] = translation.get_language()
        return real_send_mail(*args, **kwargs)

    monkeypatch.setattr(tasks, "send_mail", recording_send_mail)

    with translation.override("en"):
        tasks.notify_transition(proposed.pk, "submit")
        assert translation.get_language() == "en"  # the caller's language is left as it was

    assert languages == {"en@gd.example.cn": "en", "zh@gd.example.cn": "zh-hans"}


def test_the_subject_differs_between_an_english_and_a_chinese_reader(world, proposed, mailoutbox):
    official("gd-approver-en", world.guangdong_gov, Role.APPROVER, email="en@gd.example.cn", language="en")
    official("gd-approver-zh", world.guangdong_gov, Role.APPROVER, email="zh@gd.example.cn", language="zh-hans")

    tasks.notify_transition(proposed.pk, "submit")

    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects == {
        "en@gd.example.cn": f"Duikou: {proposed.code} is waiting for you",
        "zh@gd.example.cn": f"对口：{proposed.code} 等待您处理",
    }


def test_an_unknown_project_tells_nobody(world, mailoutbox):
    official("gd-approver", world.guangdong_gov, Role.APPROVER, email="approver@gd.example.cn")

    assert tasks.notify_transition(987654321, "submit") == 0
    assert mailoutbox == []


def test_the_task_run_twice_for_the_same_event_tells_once(world, proposed, mailoutbox):
    official("gd-approver", world.guangdong_gov, Role.APPROVER, email="approver@gd.example.cn")

    assert [tasks.notify_transition(proposed.pk, "submit") for _ in range(2)] == [1, 0]
    assert len(mailoutbox) == 1
