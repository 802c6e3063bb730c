"""config.settings.production, loaded in a subprocess with the environment a deployment gives it;
and the Content-Security-Policy every page is sent with."""

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL")


def local_postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else "postgres://postgres@127.0.0.1:5432/duikou"


def production_env(**overrides: str | None) -> dict[str, str]:
    """A clean environment for the production settings; an override of None removes the variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="duikou.example.gov.cn",
        DATABASE_URL=local_postgres_url(),
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_in_subprocess(expression: str, env: dict[str, str]):
    """The JSON value of EXPRESSION (over `settings`) with the production settings loaded."""
    code = f"import json, django; django.setup(); from django.conf import settings; print(json.dumps({expression}))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_the_deploy_check_at_warning_level():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_production_settings_refuse_to_load_without_each_required_variable(name, value):
    result = manage("check", env=production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Set the {name} environment variable" in result.stderr


def test_the_secret_key_can_be_read_from_a_file(tmp_path):
    key = secrets.token_urlsafe(64)
    key_file = tmp_path / "django_secret_key"
    key_file.write_text(key + "\n", encoding="utf-8")
    env = production_env(DJANGO_SECRET_KEY=None, DJANGO_SECRET_KEY_FILE=str(key_file))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert settings_in_subprocess("settings.SECRET_KEY == " + repr(key), env) is True


def test_production_settings_contain_no_default_secret_key():
    for module in ("base.py", "production.py"):
        text = (ROOT / "config" / "settings" / module).read_text(encoding="utf-8")
        assert not re.search(r"^SECRET_KEY\s*=\s*[\"']", text, re.MULTILINE), module
    production = (ROOT / "config" / "settings" / "production.py").read_text(encoding="utf-8")
    assert re.search(r"^SECRET_KEY = _secret_key\(\)$", production, re.MULTILINE)


def test_the_env_example_placeholder_secret_key_is_refused_at_start():
    # More than the deploy check's warning (security.W009): the settings refuse to load (tests/core/
    # test_production_secret.py has the other placeholders and short keys).
    placeholder = re.search(r"^DJANGO_SECRET_KEY=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert placeholder
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=placeholder[1]))
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is a placeholder" in result.stderr


def test_production_allows_only_the_configured_hosts_and_trusts_https_origins_for_them():
    env = production_env(DJANGO_ALLOWED_HOSTS="duikou.example.gov.cn, www.duikou.example.gov.cn")
    hosts, origins, debug = settings_in_subprocess(
        "[settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS, settings.DEBUG]", env
    )
    assert hosts == ["duikou.example.gov.cn", "www.duikou.example.gov.cn"]
    assert origins == ["https://duikou.example.gov.cn", "https://www.duikou.example.gov.cn"]
    assert debug is False


def test_production_debug_stays_off_even_when_asked_for():
    assert settings_in_subprocess("settings.DEBUG", production_env(DJANGO_DEBUG="true")) is False


def test_production_uses_a_connection_pool_for_postgresql():
    database = settings_in_subprocess(
        "{k: v for k, v in settings.DATABASES['default'].items() if k in ('ENGINE', 'OPTIONS', 'CONN_MAX_AGE')}",
        production_env(DATABASE_POOL_MAX="20"),
    )
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 20, "timeout": 10}
    assert database["CONN_MAX_AGE"] == 0


def test_the_pool_can_be_turned_off():
    options = settings_in_subprocess("settings.DATABASES['default']['OPTIONS']", production_env(DATABASE_POOL="false"))
    assert "pool" not in options


def test_production_binds_on_the_server_and_prepares_repeated_statements():
    options = settings_in_subprocess("settings.DATABASES['default']['OPTIONS']", production_env())
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 2


def test_server_side_binding_can_be_turned_off():
    options = settings_in_subprocess(
        "settings.DATABASES['default']['OPTIONS']", production_env(DATABASE_SERVER_SIDE_BINDING="false")
    )
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


# --- Content-Security-Policy (test settings share it with production through base) -----------------


class _AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        self.urls += [value or "" for name, value in attrs if name == wanted]


@pytest.mark.django_db
def test_login_page_sends_a_same_origin_content_security_policy(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert not re.search(r"https?://|\*", policy), policy


@pytest.mark.django_db
def test_login_page_loads_scripts_and_styles_only_from_the_site(client):
    response = client.get("/accounts/login/")
    collector = _AssetCollector()
    collector.feed(response.content.decode())
    assert any(url.endswith(".js") for url in collector.urls)
    assert any(url.endswith(".css") for url in collector.urls)
    for url in collector.urls:
        assert not re.match(r"(https?:)?//", url), url
