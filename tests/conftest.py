"""Test set-up: real PostgreSQL and Redis; two licensees made once per session."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from tenants.routing import invalidate_hosts
from tests.factories import licensee_destroy, licensee_make

SESSION_LICENSEES = {"alpha": "Alpha Advice", "beta": "Beta Guidance"}


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_keepdb):
    """Always create the test database: pytest-django only does so when some collected test
    carries a `django_db` mark, and our committing tests do not."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0,
            interactive=False,
            aliases={"default"},
            serialized_aliases=set(),
            keepdb=django_db_keepdb,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)


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
    not rolled back at all: end every test with an empty host cache, no throttle counters
    and the connection on the public schema."""
    yield
    invalidate_hosts()
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
