"""`callrix payouts run` beside a running demo pays through the demo's Stripe sandbox (the
README's promise); the demo itself, production and an explicit STRIPE_API_BASE are left
alone."""

from __future__ import annotations

import json

import pytest

from callrix.cli import _demo_stripe_sandbox

SANDBOX = "http://127.0.0.1:18010"


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    (tmp_path / "sandboxes.json").write_text(json.dumps({"stripe": SANDBOX}))
    monkeypatch.setenv("CALLRIX_HOME", str(tmp_path))
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.delenv("CALLRIX_ENV", raising=False)
    return tmp_path


def test_a_command_beside_the_demo_reaches_its_stripe_sandbox(demo_home, monkeypatch):
    _demo_stripe_sandbox("payouts")
    import os

    assert os.environ["STRIPE_API_BASE"] == SANDBOX


@pytest.mark.parametrize(
    ("command", "env"),
    [
        ("demo", {}),  # the demo starts sandboxes of its own
        ("payouts", {"CALLRIX_ENV": "production"}),
        ("payouts", {"STRIPE_API_BASE": "https://api.stripe.com"}),
    ],
)
def test_the_demo_production_and_a_given_base_are_left_alone(demo_home, monkeypatch, command, env):
    import os

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _demo_stripe_sandbox(command)
    assert os.environ.get("STRIPE_API_BASE") == env.get("STRIPE_API_BASE")


def test_without_a_demo_nothing_changes(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("CALLRIX_HOME", str(tmp_path))
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    _demo_stripe_sandbox("payouts")
    assert "STRIPE_API_BASE" not in os.environ
