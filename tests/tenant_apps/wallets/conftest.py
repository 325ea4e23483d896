"""The calls' world (a licensee with an online advisor and a caller with credit) and their
hand-moved clock, for the wallet history's tests."""

from tests.tenant_apps.calls.conftest import clock, world

__all__ = ["clock", "world"]
