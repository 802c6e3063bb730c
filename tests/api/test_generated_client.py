"""A client generated from the schema by openapi-python-client imports unmodified and calls the API.

The schema is written as `manage.py spectacular` writes it; the generator runs as CI would (no network, no
formatter: `post_hooks` is empty), and the generated package signs in, reads `me/`, lists projects and polls the
event feed against a live test server, with typed results."""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from projects.models import Project
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "duikou_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported (every module of it)."""
    root = tmp_path_factory.mktemp("client")
    schema = root / "schema.yml"
    call_command("spectacular", "--file", str(schema), "--validate", "--fail-on-warn")
    config = root / "config.yml"
    # No formatter (the generated code is imported, not read), and XML (IATI) comes back as bytes: the generator
    # knows no XML, and would otherwise leave the operation's response out.
    config.write_text(
        f"post_hooks: []\npackage_name_override: {PACKAGE}\n"
        "content_type_overrides:\n  application/xml: application/octet-stream\n"
    )
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Any warning means a piece of the API is missing from the client.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        package = importlib.import_module(PACKAGE)
        for module in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
            importlib.import_module(module.name)
        yield package
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_every_class_name_is_ascii(generated):
    """Names come from the API's identifiers, not from labels in the schema's language."""
    names = [p.stem for p in Path(generated.__path__[0]).rglob("*.py")]
    assert all(name.isascii() for name in names), [n for n in names if not n.isascii()]


def test_the_generated_client_signs_in_reads_me_lists_projects_and_polls_events(generated, live_server, world, pw):
    from duikou_client import AuthenticatedClient, Client
    from duikou_client.api.auth import auth_login_create, me_retrieve
    from duikou_client.api.events import events_list
    from duikou_client.api.projects import projects_list
    from duikou_client.models import EventPage, LoginRequest, Me, PaginatedProjectList, Token

    project = ProjectFactory(pairing=pw.shufu)
    ProjectFactory(pairing=pw.jiashi)  # another pairing's: not alice's to see

    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token = auth_login_create.sync(
        client=anonymous, body=LoginRequest(username="alice", password=settings.DUIKOU_DEMO_PASSWORD)
    )
    assert isinstance(token, Token), token
    client = AuthenticatedClient(
        base_url=live_server.url, token=token.token, prefix="Token", raise_on_unexpected_status=True
    )

    me = me_retrieve.sync(client=client)
    assert isinstance(me, Me), me
    assert me.username == "alice"
    assert me.organization.id == world.guangdong_gov.pk

    page = projects_list.sync(client=client, page_size=10)
    assert isinstance(page, PaginatedProjectList), page
    assert page.count == 1
    assert [(p.id, p.code) for p in page.results] == [(project.pk, project.code)]
    assert Project.objects.count() == 2

    events = events_list.sync(client=client)
    assert isinstance(events, EventPage), events
    assert {e.object_.type_ for e in events.results} >= {"pairings.pairing", "pairings.program"}
    assert events.next_ is not None


def test_a_refusal_comes_back_as_the_typed_error(generated, live_server, world):
    from duikou_client import Client
    from duikou_client.api.auth import auth_login_create
    from duikou_client.models import Errors, LoginRequest

    answer = auth_login_create.sync(
        client=Client(base_url=live_server.url), body=LoginRequest(username="alice", password="wrong")
    )
    assert isinstance(answer, Errors), answer
    assert answer.errors


def test_each_enum_is_one_class(generated):
    """A filter's enum is the component's (`CategoryEnum`), not a second class per operation."""
    import enum

    from duikou_client import models

    by_values: dict[frozenset[str], list[str]] = {}
    for name in dir(models):
        value = getattr(models, name)
        if isinstance(value, type) and issubclass(value, enum.Enum):
            by_values.setdefault(frozenset(str(m.value) for m in value), []).append(name)
    assert by_values
    assert not {names[0]: names for names in by_values.values() if len(names) > 1}
