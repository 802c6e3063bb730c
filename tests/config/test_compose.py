"""The deployment files: docker-compose.yml, Dockerfile, .dockerignore and .env.example.

No Docker engine is needed: the files are parsed and cross-checked against the settings, and the web
healthcheck command is run against gunicorn serving the production settings.
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from celery.app.utils import find_app

from config.celery_app import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
SETTINGS_DIR = ROOT / "config" / "settings"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN(?!_TTL)|_KEY\b|PRIVATE(?!_NETWORKS)")
PLACEHOLDER = "change-me"


def command_of(service: str) -> str:
    command = SERVICES[service]["command"]
    return " ".join(command) if isinstance(command, list) else command


def healthcheck_of(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def compose_variables() -> set[str]:
    """Every ${VAR} (and $${VAR} passed through to the container shell) used anywhere in docker-compose.yml."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))


def settings_variables() -> set[str]:
    """Every environment variable named literally in config/settings/*.py."""
    names: set[str] = set()
    for path in SETTINGS_DIR.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"\benv(?:\.[a-z_]+)?\(\s*\"([A-Z_][A-Z0-9_]*)\"", text))
        names |= set(re.findall(r"\b(?:env_secret|_required)\(\s*\"([A-Z_][A-Z0-9_]*)\"", text))
    return names


def required_production_variables() -> set[str]:
    text = (SETTINGS_DIR / "production.py").read_text(encoding="utf-8")
    return set(re.findall(r"\b_required\(\s*\"([A-Z_][A-Z0-9_]*)\"", text))


def env_example_entries() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, active): active lines are NAME=value, optional ones are documented as # NAME=default."""
    entries: dict[str, tuple[str, bool]] = {}
    for line in ENV_EXAMPLE.splitlines():
        match = re.match(r"^(#\s*)?([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            entries[match.group(2)] = (match.group(3).strip(), match.group(1) is None)
    return entries


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    logical: list[str] = []
    current = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    pairs = []
    for entry in logical:
        instruction, _, arguments = entry.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_defines_exactly_db_redis_migrate_web_worker_and_beat():
    assert set(SERVICES) == {"db", "redis", "migrate", "web", "worker", "beat"}


def test_compose_file_uses_the_compose_spec_without_a_version_key():
    assert "version" not in COMPOSE


def test_database_is_postgres_16_and_broker_is_redis_7():
    assert SERVICES["db"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:7")


def test_database_keeps_its_data_in_a_named_volume():
    volume, _, target = SERVICES["db"]["volumes"][0].partition(":")
    assert volume in COMPOSE["volumes"]
    assert target == "/var/lib/postgresql/data"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_application_services_are_built_from_the_dockerfile(service):
    build = SERVICES[service]["build"]
    context, dockerfile = (build, "Dockerfile") if isinstance(build, str) else (build["context"], build["dockerfile"])
    assert (ROOT / context / dockerfile).resolve() == ROOT / "Dockerfile"
    assert "image" not in SERVICES[service], "an image name next to build could be pulled from a registry"


def test_web_starts_gunicorn_on_config_wsgi_and_does_not_migrate():
    command = command_of("web")
    assert "exec gunicorn config.wsgi:application" in command
    # Replicas of web starting at once would race to migrate: the one-off migrate service does it, once.
    assert "migrate" not in command
    assert "--bind 0.0.0.0:8000" in command
    # $$ reaches the container as $: the worker count is read when the container starts.
    assert "--workers $${GUNICORN_WORKERS" in command


def test_web_publishes_port_8000_and_keeps_uploads_in_the_media_volume():
    assert [str(port).rpartition(":")[2] for port in SERVICES["web"]["ports"]] == ["8000"]
    media_root = SERVICES["web"]["environment"]["DJANGO_MEDIA_ROOT"]
    assert f"media:{media_root}" in SERVICES["web"]["volumes"]
    assert "media" in COMPOSE["volumes"]


def test_worker_runs_celery_for_config_on_every_routed_queue():
    command = command_of("worker").split()
    assert command[:4] == ["celery", "-A", "config", "worker"]
    queues = set(command[command.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in celery_app.conf.task_routes.values()}
    assert queues == {"default", "evaluation"}
    assert routed | {celery_app.conf.task_default_queue} <= queues
    assert command[command.index("-l") + 1] == "info"


def test_beat_runs_celery_beat_for_config():
    assert command_of("beat").split()[:4] == ["celery", "-A", "config", "beat"]


def test_celery_app_option_config_finds_the_project_app():
    assert find_app("config") is celery_app


def test_db_redis_and_web_have_healthchecks():
    assert "pg_isready" in healthcheck_of("db")
    assert "redis-cli ping" in healthcheck_of("redis")
    web = healthcheck_of("web")
    assert "urllib.request" in web
    assert "http://127.0.0.1:8000/healthz" in web
    assert "curl" not in web


@pytest.mark.parametrize("service", APP_SERVICES)
def test_application_services_wait_for_a_healthy_database_and_redis(service):
    depends_on = SERVICES[service]["depends_on"]
    assert depends_on["db"] == {"condition": "service_healthy"}
    assert depends_on["redis"] == {"condition": "service_healthy"}


def test_a_one_off_migrate_service_migrates_and_exits():
    migrate = SERVICES["migrate"]
    assert command_of("migrate") == "python manage.py migrate --no-input"
    assert migrate["restart"] == "no"  # not the app's unless-stopped: it runs once and stays exited
    assert "ports" not in migrate
    assert "healthcheck" not in migrate


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_web_worker_and_beat_wait_for_the_migrations_to_succeed(service):
    assert SERVICES[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "web" not in SERVICES[service]["depends_on"]


def test_beat_runs_exactly_once():
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert all("beat" not in command_of(name) for name in SERVICES if name != "beat" and "command" in SERVICES[name])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_application_services_run_production_settings_against_the_compose_services(service):
    config = SERVICES[service]
    environment = config["environment"]
    assert config["env_file"] in (".env", [".env"])
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert environment["DATABASE_URL"].startswith("postgres://duikou:${POSTGRES_PASSWORD")
    assert environment["DATABASE_URL"].endswith("}@db:5432/duikou")
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY")
    assert environment["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS")


def test_database_user_and_name_match_the_application_database_url():
    environment = SERVICES["db"]["environment"]
    url = re.fullmatch(
        r"postgres://(?P<user>\w+):\$\{POSTGRES_PASSWORD[^}]*\}@db:5432/(?P<name>\w+)",
        SERVICES["web"]["environment"]["DATABASE_URL"],
    )
    assert url
    assert (environment["POSTGRES_USER"], environment["POSTGRES_DB"]) == (url["user"], url["name"])
    assert environment["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")


def test_every_compose_variable_is_documented_in_env_example():
    assert compose_variables() - set(env_example_entries()) == set()


def test_every_variable_the_settings_read_is_documented_in_env_example():
    assert settings_variables() - set(env_example_entries()) == set()


def test_variables_production_requires_are_set_in_env_example():
    entries = env_example_entries()
    required = required_production_variables()
    assert required == {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"}
    assert all(entries[name][1] and entries[name][0] for name in required)


URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@]+)@")


def _leaves(node, key: str = ""):
    """(name, value) for every scalar in the compose file; list-form "NAME=value" entries are split."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _leaves(value, str(name))
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item, key)
    else:
        name, sep, value = str(node).partition("=")
        yield (name, value) if sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) else (key, str(node))


def test_compose_holds_no_literal_secret():
    for name, value in _leaves(COMPOSE):
        if SECRET_NAME.search(name):
            assert re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*(:?[-?][^}]*)?\}", value), f"{name} is a literal: {value!r}"
        for password in URL_PASSWORD.findall(value):
            assert password.startswith("${"), f"{name} has a literal password in a URL"


def test_env_example_holds_no_real_secret():
    for name, (value, _active) in env_example_entries().items():
        if SECRET_NAME.search(name) and not name.endswith("_FILE"):
            assert value == PLACEHOLDER, f"{name} must be the {PLACEHOLDER!r} placeholder"
        for password in URL_PASSWORD.findall(value):
            assert password == PLACEHOLDER, f"{name} has a password in its URL"


def test_every_env_example_variable_has_a_comment_above_it():
    lines = ENV_EXAMPLE.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^(#\s*)?[A-Z_][A-Z0-9_]*=", line):
            above = lines[index - 1]
            assert above.startswith("# "), f"{line!r} has no comment"
            assert len(above) > 4, f"{line!r} has no comment"


# --- Dockerfile and .dockerignore ---------------------------------------------------------------


def test_dockerfile_is_based_on_python_313_slim():
    froms = [arguments for instruction, arguments in dockerfile_instructions() if instruction == "FROM"]
    assert froms
    assert all(arguments.split()[0] == "python:3.13-slim" for arguments in froms)


def test_dockerfile_installs_the_hashed_requirements_without_a_cache():
    installs = [a for i, a in dockerfile_instructions() if i == "RUN" and "pip install" in a]
    assert len(installs) == 1
    assert "--require-hashes" in installs[0]
    assert "--no-cache-dir" in installs[0]
    assert "-r requirements/base.txt" in installs[0]


def test_dockerfile_needs_no_gnu_gettext():
    assert "gettext" not in " ".join(a for i, a in dockerfile_instructions() if i == "RUN")


def test_dockerfile_compiles_translations_and_static_files_with_throwaway_production_values():
    build = [a for i, a in dockerfile_instructions() if i == "RUN" and "collectstatic" in a]
    assert len(build) == 1
    run = build[0]
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in run
    assert run.index("manage.py compile_translations") < run.index("manage.py collectstatic --no-input")
    for name in required_production_variables():
        assert f"{name}=" in run


def test_dockerfile_bakes_no_settings_secret_into_the_image():
    for instruction, arguments in dockerfile_instructions():
        if instruction in {"ENV", "ARG", "LABEL"}:
            for name in required_production_variables() | {"POSTGRES_PASSWORD", "DJANGO_SECRET_KEY_FILE"}:
                assert name not in arguments, f"{instruction} {arguments}"


def test_dockerfile_makes_the_production_settings_the_default_at_run_time():
    envs = " ".join(a for i, a in dockerfile_instructions() if i == "ENV")
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in envs


def test_dockerfile_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    users = [index for index, (instruction, _) in enumerate(instructions) if instruction == "USER"]
    assert users
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in {"root", "0"}
    assert users[-1] > max(index for index, (instruction, _) in enumerate(instructions) if instruction == "RUN")


def test_dockerfile_exposes_8000_and_serves_config_wsgi_with_gunicorn():
    instructions = dict(dockerfile_instructions())
    assert instructions["EXPOSE"] == "8000"
    cmd = instructions["CMD"]
    assert "gunicorn config.wsgi:application" in cmd
    assert "--bind 0.0.0.0:8000" in cmd
    assert "--workers ${GUNICORN_WORKERS" in cmd
    assert "exec gunicorn" in cmd, "gunicorn must replace the shell to receive the stop signal"


def test_dockerignore_keeps_environments_data_and_secrets_out_of_the_build():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    assert {".venv", "var", ".git", ".env", "**/__pycache__", ".pytest_cache", "test-results"} <= ignored


# --- the web healthcheck, run for real --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="healthcheck-test-" + "k" * 40 + "-0123456789",
        DJANGO_ALLOWED_HOSTS="duikou.example.gov.cn,www.duikou.example.gov.cn",
        DATABASE_URL=database_url,
    )
    return env


def _maintenance_database_url() -> str:
    """The local PostgreSQL's maintenance database: the health check only runs SELECT 1."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/duikou"
    return urlsplit(url)._replace(path="/postgres").geturl()


def test_web_healthcheck_passes_against_gunicorn_serving_the_production_settings():
    port = _free_port()
    env = _production_env(_maintenance_database_url())
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        test = SERVICES["web"]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"]
        script = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        check = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stderr:
            server.stderr.close()
