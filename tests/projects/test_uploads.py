"""document_upload: size, extension and the file's own first bytes are checked before anything is stored.
The test settings keep files in InMemoryStorage, so "nothing stored" is read from default_storage itself as
well as from the Document table."""

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from core.errors import DomainError, NotFound, PermissionDenied
from core.models import HistoryEvent
from projects import services
from projects.models import Document, Project, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


PNG = _png_1x1()
# A 1×1 greyscale JFIF, with its end-of-image marker.
JPEG = (
    base64.b64decode(
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////"
        "////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
    )
    + b"\xff\xd9"
)
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
DOCX = _docx()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def stored_files(path: str = "") -> set[str]:
    """Every file name in default_storage under PATH."""
    try:
        dirs, files = default_storage.listdir(path)
    except FileNotFoundError:
        return set()
    names = {f"{path}/{f}".lstrip("/") for f in files}
    for d in dirs:
        names |= stored_files(f"{path}/{d}".lstrip("/"))
    return names


@contextmanager
def nothing_stored() -> Iterator[None]:
    """No Document row, no history event and no file in storage is added by the block."""
    before = (Document.objects.count(), HistoryEvent.objects.count(), stored_files())
    yield
    assert (Document.objects.count(), HistoryEvent.objects.count(), stored_files()) == before


def problems(exc_info) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in exc_info.value.problems]


# --- what is accepted ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("现场照片.png", PNG, "image/png"),
        ("PHOTO.PNG", PNG, "image/png"),
        ("site.jpg", JPEG, "image/jpeg"),
        ("site.jpeg", JPEG, "image/jpeg"),
        ("验收报告.pdf", PDF, "application/pdf"),
        (
            "施工合同.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("进度表.xlsx", DOCX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_a_file_whose_bytes_match_its_extension_is_stored_with_its_document(world, draft, name, content, content_type):
    before = stored_files()

    doc = services.document_upload(by=world.assisting, project=draft, upload=upload(name, content), kind="report")

    stored = Document.objects.get(pk=doc.pk)
    assert (stored.project, stored.kind, stored.title, stored.uploaded_by) == (draft, "report", name, world.assisting)
    assert (stored.size, stored.content_type) == (len(content), content_type)
    assert stored_files() - before == {stored.file.name}
    assert stored.file.name.startswith(f"projects/{draft.pk}/")
    with default_storage.open(stored.file.name) as f:
        assert f.read() == content
    event = HistoryEvent.objects.for_object(draft).order_by("id").last()
    assert (event.action, event.actor) == ("document_added", world.assisting)
    assert event.changes == {"title": {"old": None, "new": name}, "document_kind": {"old": None, "new": "report"}}


def test_a_document_takes_the_title_it_is_given(world, draft):
    doc = services.document_upload(
        by=world.recipient, project=draft, upload=upload("IMG_0001.jpg", JPEG), kind="photo", title=" 校舍东立面 "
    )

    assert Document.objects.get(pk=doc.pk).title == "校舍东立面"


def test_a_file_exactly_at_the_size_limit_is_accepted(world, draft, monkeypatch):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", len(PDF))

    doc = services.document_upload(by=world.assisting, project=draft, upload=upload("a.pdf", PDF))

    assert Document.objects.get(pk=doc.pk).size == len(PDF)


def test_a_photo_is_attached_to_a_progress_report_of_the_same_project(world, draft, approver):
    services.project_submit(project=draft, by=world.assisting)
    services.project_approve(project=draft, by=approver)
    services.project_start(project=draft, by=world.assisting, actual_start=draft.planned_start)
    report = services.progress_report_submit(
        by=world.assisting, project=draft, period_end=draft.planned_start, physical_progress=5, spend_to_date="0"
    )

    doc = services.document_upload(
        by=world.assisting, project=draft, upload=upload("地基.png", PNG), kind="photo", progress_report=report
    )

    assert list(report.photos.all()) == [doc]


# --- what is refused, and then nothing is stored ---------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused(world, draft, monkeypatch):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", len(PDF) - 1)

    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(by=world.assisting, project=draft, upload=upload("big.pdf", PDF))

    assert problems(exc) == [("too_large", "file")]


def test_an_empty_file_is_refused(world, draft):
    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(by=world.assisting, project=draft, upload=upload("empty.pdf", b""))

    assert problems(exc) == [("empty", "file")]


@pytest.mark.parametrize("name", ["setup.exe", "photo.png.exe", "macro.docm", "notes.txt", "README"])
def test_a_file_of_a_type_not_allowed_is_refused(world, draft, name):
    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(by=world.assisting, project=draft, upload=upload(name, EXE))

    assert problems(exc) == [("forbidden_type", "file")]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"this is not a picture at all"),
        ("photo.png", JPEG),
        ("photo.png", EXE),
        ("scan.jpg", PNG),
        ("report.pdf", PNG),
        ("contract.docx", PDF),
        ("sheet.xlsx", EXE),
    ],
)
def test_a_file_whose_bytes_do_not_match_its_extension_is_refused(world, draft, name, content):
    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(by=world.assisting, project=draft, upload=upload(name, content))

    assert problems(exc) == [("type_mismatch", "file")]


def test_a_document_of_an_unknown_kind_is_refused(world, draft):
    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(by=world.assisting, project=draft, upload=upload("a.pdf", PDF), kind="selfie")

    assert problems(exc) == [("invalid_choice", "kind")]


def test_every_problem_of_an_upload_is_named_at_once(world, draft):
    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(by=world.assisting, project=draft, upload=upload("a.exe", b""), kind="selfie")

    assert problems(exc) == [("empty", "file"), ("forbidden_type", "file"), ("invalid_choice", "kind")]


def test_a_photo_cannot_be_attached_to_another_projects_report(world, pw, draft, approver):
    other = services.project_create(
        by=world.assisting,
        pairing=pw.shufu,
        title="乡村道路",
        category="infrastructure",
        sector="infrastructure",
        location=world.shufu,
        budget_requested="1000000",
        planned_start=draft.planned_start,
        planned_end=draft.planned_end,
    )
    services.project_submit(project=other, by=world.assisting)
    services.project_approve(project=other, by=approver)
    services.project_start(project=other, by=world.assisting, actual_start=draft.planned_start)
    foreign = services.progress_report_submit(
        by=world.assisting, project=other, period_end=draft.planned_start, physical_progress=5, spend_to_date="0"
    )

    with nothing_stored(), pytest.raises(DomainError) as exc:
        services.document_upload(
            by=world.assisting, project=draft, upload=upload("a.png", PNG), kind="photo", progress_report=foreign
        )

    assert problems(exc) == [("invalid", "progress_report")]


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.OBSERVER])
def test_an_official_whose_roles_do_not_upload_is_refused(world, draft, role):
    reader = UserFactory(username=f"gd-{role}", organization=world.guangdong_gov, roles=[role])

    with nothing_stored(), pytest.raises(PermissionDenied):
        services.document_upload(by=reader, project=draft, upload=upload("a.pdf", PDF))


def test_an_outsider_cannot_upload_to_a_project_they_do_not_see(world, draft):
    with nothing_stored(), pytest.raises(NotFound):
        services.document_upload(by=world.outsider, project=draft, upload=upload("a.pdf", PDF))

    assert Project.objects.get(pk=draft.pk).state == State.DRAFT
