"""A file name the filesystem would refuse (255 bytes is 85 Chinese characters) is cut by bytes, keeping its
extension, on the real FileSystemStorage: stored, listed and served back, a second time under the suffix the
storage adds too."""

import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from projects.models import FILE_NAME_MAX_BYTES, Document
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF\n"
LONG_NAME = "对口支援项目验收报告" * 12 + ".pdf"  # 120 Chinese characters: 360 bytes before the extension


@pytest.fixture
def media_on_disk(tmp_path: Path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, MEDIA_ROOT=str(tmp_path)):
        yield tmp_path


def upload(client, project):
    return client.post(
        f"/api/v1/projects/{project.pk}/documents/",
        {"file": SimpleUploadedFile(LONG_NAME, PDF, content_type="application/pdf"), "kind": "other"},
        format="multipart",
    )


def test_a_long_chinese_name_is_stored_with_its_extension_and_served_back_twice(world, draft, media_on_disk):
    client = api_as(world.recipient)

    first, second = upload(client, draft), upload(client, draft)

    assert (first.status_code, second.status_code) == (201, 201), (first.content, second.content)
    documents = [Document.objects.get(pk=r.json()["id"]) for r in (first, second)]
    names = [os.path.basename(d.file.name or "") for d in documents]
    assert names[0] != names[1]
    for document, name in zip(documents, names, strict=True):
        assert name.endswith(".pdf")
        assert name.startswith("对口支援项目验收报告")
        assert len(name.encode()) <= FILE_NAME_MAX_BYTES
        assert (media_on_disk / document.file.name).read_bytes() == PDF
        # The title keeps the whole name as typed; only the stored file's name is cut.
        assert document.title == LONG_NAME
        served = client.get(f"/api/v1/projects/{draft.pk}/documents/{document.pk}/download/")
        assert served.status_code == 200
        assert b"".join(served.streaming_content) == PDF
        assert "attachment" in served["Content-Disposition"]
        assert ".pdf" in served["Content-Disposition"]


def test_a_short_name_is_kept_as_it_was(world, draft, media_on_disk):
    response = api_as(world.recipient).post(
        f"/api/v1/projects/{draft.pk}/documents/",
        {"file": SimpleUploadedFile("验收报告.pdf", PDF, content_type="application/pdf"), "kind": "other"},
        format="multipart",
    )

    assert response.status_code == 201
    assert Document.objects.get(pk=response.json()["id"]).file.name.endswith("/验收报告.pdf")
