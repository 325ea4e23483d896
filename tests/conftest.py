"""Test set-up: real PostgreSQL and Redis; two licensees made once per session."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import translation

from branding.selectors import brand_cache
from tenant_apps.calls.livekit_gateway import breaker as livekit_breaker
from tenants import schema_template
from tenants.routing import invalidate_hosts
from tests.factories import PASSWORD, licensee_destroy, licensee_make, password_hash

SESSION_LICENSEES = {"alpha": "Alpha Advice", "beta": "Beta Guidance"}


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment, django_db_modify_db_settings, django_db_blocker, django_db_keepdb
):
    """Always create the test database: pytest-django only does so when some collected test
    carries a `django_db` mark, and our committing tests do not. (`django_db_modify_db_settings`
    gives each pytest-xdist worker a database of its own: `test_callrix_gw0`, `_gw1`, ….)"""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0,
            interactive=False,
            aliases={"default"},
            serialized_aliases=set(),
            keepdb=django_db_keepdb,
        )
        # Licensees made by tests take spares built from the template, as a worker's refills
        # are after its first (one migration for the run instead of one a licensee).
        schema_template.template_prepare()
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            _end_other_sessions()
            teardown_databases(config, verbosity=0)


def _end_other_sessions() -> None:
    """A server or worker thread of some test may still hold a connection to the test
    database, and PostgreSQL refuses to drop a database in use."""
    from django.db import connections

    name = connection.settings_dict["NAME"]
    connections.close_all()
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API leaves an event loop running on the main
    thread for the rest of the session, which code under test that starts its own loop
    (the LiveKit SDK's) must not meet. (In parallel runs they have a worker of their own.)"""
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """In place of xdist's default `load` (`-n 3` alone): the same, with the browser tests on
    a worker of their own (tests/parallel.py). Another `--dist` asked for is left as it is."""
    if config.getoption("dist") != "load":
        return None
    from tests.parallel import BrowserWorkerScheduling

    return BrowserWorkerScheduling(config, log)


@pytest.fixture(scope="session")
def licensees(django_db_setup, django_db_blocker):
    """`alpha` and `beta`, committed once for the whole run by the fast (pool) path."""
    with django_db_blocker.unblock():
        made = {
            slug: licensee_make(slug=slug, name=name) for slug, name in SESSION_LICENSEES.items()
        }
        connection.set_schema_to_public()
    yield made


@pytest.fixture
def alpha(licensees):
    return licensees["alpha"]


@pytest.fixture
def beta(licensees):
    return licensees["beta"]


@pytest.fixture(autouse=True)
def _fresh_state():
    """Rolled-back tests change licensees without signals firing on rollback, and Redis is
    not rolled back at all: end every test with empty host and brand caches, no throttle counters
    and the connection on the public schema."""
    yield
    invalidate_hosts()
    brand_cache.invalidate()
    livekit_breaker.reset()  # a test that made LiveKit unreachable leaves it closed again
    translation.activate(settings.LANGUAGE_CODE)  # a German page leaves the thread German
    redis = cache._cache.get_client(None, write=True)
    stale = list(redis.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*throttle:*"))
    if stale:
        redis.delete(*stale)
    connection.set_schema_to_public()


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """For tests whose work must really commit (jobs run by a worker on its own connection).
    They clean up after themselves."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


@pytest.fixture
def host_client():
    def make(host: str) -> Client:
        return Client(HTTP_HOST=host)

    return make


@pytest.fixture
def throwaway_licensee(committed):
    """A licensee committed just for one test, dropped afterwards (schema included)."""
    made = []

    def make(slug: str, name: str = "Throwaway"):
        licensee = licensee_make(slug=slug, name=name)
        made.append(licensee)
        return licensee

    yield make
    for licensee in made:
        licensee_destroy(licensee)


@pytest.fixture(scope="session")
def stripe_sandbox():
    """One local Stripe (the sandbox) for the whole run; tests make their own accounts."""
    from sandboxes.stripe_sandbox import StripeSandbox, serve

    server, base_url = serve(sandbox=StripeSandbox())
    server.base_url = base_url
    yield server.sandbox, base_url
    server.shutdown()


@pytest.fixture
def stripe(stripe_sandbox, settings):
    """The Stripe sandbox app, with the product's STRIPE_API_BASE pointed at it."""
    sandbox, base_url = stripe_sandbox
    settings.STRIPE_API_BASE = base_url
    return sandbox


@pytest.fixture
def make_user():
    """make_user("alpha", "x@y.test", role="admin"): a user in that schema, password PASSWORD."""
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    def make(schema: str, email: str, role: str = "end_user", password: str = PASSWORD, **extra):
        with schema_context(schema):
            return get_user_model().objects.create(
                email=email,
                role=role,
                password=password_hash(password),
                display_name=extra.pop("display_name", email.split("@")[0]),
                **extra,
            )

    return make


@pytest.fixture
def api(host_client):
    """A JSON client per host: api("alpha").post("/api/v1/…", {...}, token=…);
    api(None) is the public host."""

    def auth(token):
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    class Api:
        def __init__(self, slug: str | None):
            self.client = host_client(f"{slug}.localhost" if slug else "localhost")

        def get(self, path, token=None, **params):
            return self.client.get(path, params, **auth(token))

        def post(self, path, body=None, token=None, **headers):
            return self.client.post(
                path, body or {}, content_type="application/json", **auth(token), **headers
            )

        def put(self, path, body, token=None):
            return self.client.put(path, body, content_type="application/json", **auth(token))

        def patch(self, path, body, token=None):
            return self.client.patch(path, body, content_type="application/json", **auth(token))

        def delete(self, path, body=None, token=None):
            return self.client.delete(
                path, body or {}, content_type="application/json", **auth(token)
            )

    return Api


@pytest.fixture(scope="session")
def callrix_server(django_db_setup):
    """Callrix served over real HTTP on a random port, for providers' webhooks to reach.
    (pytest-django's `live_server` would flush the database after each test, wiping the
    session's licensees.)"""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connections

    from sandboxes._server import serve_in_thread

    handler = WSGIHandler()

    class ClosingBody:
        """Each request runs on a thread of its own: close that thread's database connection
        once the body is sent (a streamed body may still query while it is sent), or the
        connections outlive their threads and the test database cannot be dropped."""

        def __init__(self, body):
            self.body = body

        def __iter__(self):
            return iter(self.body)

        def close(self):
            try:
                if hasattr(self.body, "close"):
                    self.body.close()
            finally:
                connections.close_all()

    def app(environ, start_response):
        try:
            return ClosingBody(handler(environ, start_response))
        except BaseException:
            connections.close_all()
            raise

    server, base_url = serve_in_thread(
        app,
        host="127.0.0.1",
        port=0,
        thread_name="callrix-server",
        logger_name=__name__,
        log_prefix="callrix server: ",
    )
    server.url = base_url
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def livekit_sandbox():
    from sandboxes.livekit_sandbox import LiveKitSandbox, serve

    server, base_url = serve(sandbox=LiveKitSandbox())
    yield server.sandbox, base_url
    server.shutdown()


@pytest.fixture
def livekit(livekit_sandbox, settings):
    """The LiveKit sandbox, with the product's LIVEKIT_* settings pointed at it."""
    sandbox, base_url = livekit_sandbox
    settings.LIVEKIT_URL = base_url.replace("http://", "ws://")
    settings.LIVEKIT_API_KEY = sandbox.api_key
    settings.LIVEKIT_API_SECRET = sandbox.api_secret
    sandbox.webhook_url = None
    sandbox.drop_webhooks = False
    yield sandbox
    sandbox.reset()


@pytest.fixture(scope="session")
def fcm_sandbox():
    from sandboxes.fcm_sandbox import FcmSandbox, serve

    server, base_url = serve(sandbox=FcmSandbox())
    yield server.sandbox, base_url
    server.shutdown()


@pytest.fixture
def fcm(fcm_sandbox, settings):
    """The FCM sandbox, with FCM_API_BASE and Callrix's default credentials pointed at it."""
    import json

    sandbox, base_url = fcm_sandbox
    settings.FCM_API_BASE = base_url
    settings.FCM_DEFAULT_CREDENTIALS = json.dumps(sandbox.create_service_account())
    yield sandbox
    sandbox.reset()
