"""The imports pages: choose a kind, download its template, upload (the dry run's table), commit; past imports.
In both languages, and only for those who may import."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from exchange.models import Import, ImportStatus
from pairings.models import Deployment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(user, language="zh-hans"):
    # A signed-in official's pages are in their preferred language.
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def csv_file(pw, *, bad=False):
    rows = ["external_ref,pairing,kind,headcount,start date", f"R-1,{pw.shufu.pk},teacher,3,2015-03-01"]
    rows.append(f"R-2,{pw.shufu.pk},doctor,{'lots' if bad else '2'},2015-04-01")
    return SimpleUploadedFile("people.csv", "\n".join(rows).encode("utf-8-sig"))


@pytest.mark.parametrize(("language", "heading"), [("zh-hans", "导入"), ("en", "Imports")])
def test_the_page_offers_templates_of_what_the_user_may_import(world, pw, language, heading):
    response = client_for(world.recipient, language).get("/exchange/imports/")
    assert response.status_code == 200
    page = response.content.decode()
    assert heading in page
    # A recipient officer records flows, deployments and trainings, not projects' revenues of other parties.
    assert "/exchange/imports/template/deployments/" in page
    assert "/exchange/imports/template/fiscal_revenues/" not in page


def test_upload_shows_the_dry_run_then_commit_imports(world, pw):
    client = client_for(world.recipient, "en")
    response = client.post("/exchange/imports/", {"kind": "deployments", "file": csv_file(pw, bad=True)})
    assert response.status_code == 302
    record = Import.objects.get()
    assert record.status == ImportStatus.INVALID
    page = client.get(response["Location"]).content.decode()
    assert "headcount" in page
    assert "Enter a whole number." in page
    assert "Commit the import" not in page
    assert not Deployment.objects.exists()

    response = client.post("/exchange/imports/", {"kind": "deployments", "file": csv_file(pw)})
    record = Import.objects.order_by("-pk").first()
    assert record.status == ImportStatus.CHECKED
    detail = client.get(response["Location"]).content.decode()
    assert "Commit the import" in detail
    committed = client.post(f"/exchange/imports/{record.pk}/commit/")
    assert committed.status_code == 302
    record.refresh_from_db()
    assert record.status == ImportStatus.COMMITTED
    assert Deployment.objects.filter(pairing=pw.shufu).count() == 2
    listing = client.get("/exchange/imports/").content.decode()
    assert "people.csv" in listing


def test_a_refused_file_is_shown_on_the_form_and_nothing_is_kept(world, pw):
    client = client_for(world.recipient, "en")
    response = client.post(
        "/exchange/imports/", {"kind": "deployments", "file": SimpleUploadedFile("x.pdf", b"%PDF-1.4\x00\xff")}
    )
    assert response.status_code == 400
    assert "not a readable XLSX or CSV" in response.content.decode()
    assert not Import.objects.exists()


def test_another_users_import_is_404_on_the_pages(world, pw):
    client_for(world.recipient, "en").post("/exchange/imports/", {"kind": "deployments", "file": csv_file(pw)})
    record = Import.objects.get()
    other = client_for(world.assisting)
    assert other.get(f"/exchange/imports/{record.pk}/").status_code == 404
    assert other.post(f"/exchange/imports/{record.pk}/commit/").status_code == 404
    record.refresh_from_db()
    assert record.status == ImportStatus.CHECKED


def test_template_download_on_the_page_opens_in_openpyxl(world, pw):
    response = client_for(world.assisting, "zh-hans").get("/exchange/imports/template/projects/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    header = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    assert header[:3] == ["代码", "结对关系", "名称"]
    assert len(book.worksheets) == 2


def test_someone_who_may_import_nothing_gets_no_page_and_no_tab(world):
    observer = UserFactory(username="olga", organization=world.guangdong_gov, roles=["observer"])
    client = client_for(observer, "en")
    assert client.get("/exchange/imports/").status_code == 403
    assert client.get("/exchange/imports/template/projects/").status_code == 403
    # Data exchange (one menu entry for everyone) offers the imports tab only to those who may import something.
    assert 'href="/exchange/imports/"' not in client.get("/exchange/").content.decode()
    assert 'href="/exchange/imports/"' in client_for(world.recipient, "en").get("/exchange/").content.decode()
