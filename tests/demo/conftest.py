"""The load test's checks play calls as the calls tests do."""

from tests.tenant_apps.calls.conftest import clock, world  # noqa: F401  (shared fixtures)
