"""The hourly sweep of files refused forms kept (core.uploads): those older than KEPT_UPLOADS_MAX_AGE_HOURS go,
with the folders they leave empty; newer ones, and files outside `kept/`, stay."""

import os
import time
from pathlib import Path

import pytest

from core.tasks import sweep_kept_uploads


@pytest.fixture
def media(tmp_path, settings) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.KEPT_UPLOADS_MAX_AGE_HOURS = 24
    return tmp_path


def put(root: Path, path: str, hours_old: float) -> Path:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"\xff\xd8\xff photo")
    then = time.time() - hours_old * 3600
    os.utime(file, (then, then))
    return file


def test_the_sweep_deletes_kept_files_older_than_the_setting_and_nothing_else(media):
    old = put(media, "kept/7/aaa/site.jpg", hours_old=25)
    old_too = put(media, "kept/7/bbb/plan.pdf", hours_old=48)
    fresh = put(media, "kept/7/ccc/new.jpg", hours_old=1)
    elsewhere = put(media, "projects/1/photo.jpg", hours_old=24 * 30)

    assert sweep_kept_uploads() == 2

    assert not old.exists()
    assert not old_too.exists()
    assert not (media / "kept/7/aaa").exists()  # the folders it left empty go too
    assert fresh.exists()
    assert elsewhere.exists()
    assert sweep_kept_uploads() == 0  # a second run finds nothing more


def test_the_age_is_a_setting(media, settings):
    file = put(media, "kept/3/ddd/a.jpg", hours_old=3)
    settings.KEPT_UPLOADS_MAX_AGE_HOURS = 2
    assert sweep_kept_uploads() == 1
    assert not file.exists()


def test_no_kept_folder_is_nothing_to_do(media):
    assert sweep_kept_uploads() == 0
