"""config.celery_app: safe serialisation, late acknowledgement, time limits, routing; eager without a broker."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.celery_app import app

ROOT = Path(__file__).resolve().parents[2]


def test_celery_speaks_json_only():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_tasks_are_acknowledged_after_they_run_and_redelivered_when_a_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_tasks_have_a_soft_time_limit_below_the_hard_one():
    assert app.conf.task_soft_time_limit
    assert app.conf.task_time_limit
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("evaluation.tasks.recompute_scores", "evaluation"),
        ("evaluation.tasks.anything_else", "evaluation"),
        ("core.tasks.send_digest", "default"),
        ("accounts.tasks.cleanup", "default"),
    ],
)
def test_evaluation_tasks_go_to_their_own_queue_and_the_rest_to_default(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue
    assert app.conf.task_default_queue == "default"


def _eager_in_local_settings(broker_url: str | None) -> list[bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    if broker_url is not None:
        env["CELERY_BROKER_URL"] = broker_url
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "from config.celery_app import app; "
        "print(json.dumps([settings.CELERY_TASK_ALWAYS_EAGER, app.conf.task_always_eager]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_settings_run_tasks_eagerly_when_no_broker_is_configured():
    assert _eager_in_local_settings(None) == [True, True]


def test_local_settings_send_tasks_to_the_broker_when_one_is_configured():
    assert _eager_in_local_settings("redis://127.0.0.1:6379/0") == [False, False]


@pytest.mark.parametrize(
    ("task", "every"),
    [
        ("projects.tasks.remind_rectifications", "day"),
        ("accounts.tasks.send_digests", "day"),
        ("core.tasks.sweep_kept_uploads", "hour"),
    ],
)
def test_beat_runs_the_reminders_the_digest_and_the_sweep(task, every):
    """Each beat entry names a task a worker knows, on the schedule its docstring promises."""
    from celery.schedules import crontab

    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"] == task]
    app.loader.import_default_modules()
    assert task in app.tasks
    schedule = entry["schedule"]
    if every == "hour":
        assert schedule == 60 * 60
    else:
        assert isinstance(schedule, crontab)
        assert len(schedule.hour) == 1
        assert len(schedule.minute) == 1
