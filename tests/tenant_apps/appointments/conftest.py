# The calls' world (an online advisor, a caller with credit, their tokens) and the clock.
from tests.tenant_apps.calls.conftest import clock, world  # noqa: F401
