"""The load test's traffic (run by `callrix loadtest`, scripts/loadtest, in Locust's own
process): visitors browsing advisors, callers paired with an advisor of their own who sign
in, top up through the Stripe sandbox, call through the LiveKit sandbox's presence, hang up
and read their wallet and history, and an owner reading the dashboard.

The command passes, in the environment: LOADTEST_HOST (the licensee's host name),
LOADTEST_PEOPLE (a JSON file: the pairs, the owner, the passwords) and LOADTEST_TALK_LOG (a
file this process appends one JSON line to per call it talked: call id and seconds)."""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import HttpUser, between, task

PEOPLE = json.loads(Path(os.environ["LOADTEST_PEOPLE"]).read_text())
HOST = os.environ["LOADTEST_HOST"]
TALK_LOG = Path(os.environ["LOADTEST_TALK_LOG"])
_next_pair = itertools.count()


class LicenseeUser(HttpUser):
    abstract = True

    def on_start(self) -> None:
        # The licensee is picked by its host name; the stack listens on loopback.
        self.client.headers["Host"] = HOST

    def sign_in(self, email: str) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/token", json={"email": email, "password": PEOPLE["password"]}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access']}"}


class Visitor(LicenseeUser):
    """Someone browsing the advisors without signing in."""

    weight = 3
    wait_time = between(0.5, 2)

    @task(3)
    def advisors(self) -> None:
        self.client.get("/api/v1/advisors?status=online", name="/api/v1/advisors?status=online")

    @task(2)
    def advisor(self) -> None:
        pair = random.choice(PEOPLE["pairs"])
        self.client.get(f"/api/v1/advisors/{pair['advisor_id']}", name="/api/v1/advisors/[id]")

    @task(1)
    def pages(self) -> None:
        self.client.get("/", name="/ (advisors page)")
        pair = random.choice(PEOPLE["pairs"])
        self.client.get(f"/advisors/{pair['advisor_id']}/", name="/advisors/[id]/ (page)")


class Caller(LicenseeUser):
    """An end user with an advisor of their own, so every call they place can be answered."""

    fixed_count = len(PEOPLE["pairs"])
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        super().on_start()
        pair = PEOPLE["pairs"][next(_next_pair) % len(PEOPLE["pairs"])]
        self.advisor_id = pair["advisor_id"]
        self.caller = self.sign_in(pair["caller_email"])
        self.advisor = self.sign_in(pair["advisor_email"])

    @task(3)
    def wallet(self) -> None:
        self.client.get("/api/v1/wallet", headers=self.caller)

    @task(2)
    def history(self) -> None:
        self.client.get("/api/v1/wallet/transactions", headers=self.caller)
        self.client.get("/api/v1/calls", headers=self.caller)

    @task(1)
    def top_up(self) -> None:
        response = self.client.post(
            "/api/v1/wallet/topups", json={"amount": 2_000}, headers=self.caller
        )
        if not response.ok:
            return
        self.client.post(
            f"/api/v1/wallet/topups/{response.json()['id']}/sandbox/pay",
            json={"succeed": True},
            headers=self.caller,
            name="/api/v1/wallet/topups/[id]/sandbox/pay",
        )

    @task(2)
    def call(self) -> None:
        response = self.client.post(
            "/api/v1/calls", json={"advisor_id": self.advisor_id}, headers=self.caller
        )
        if not response.ok:
            return
        call_id = response.json()["id"]
        path = f"/api/v1/calls/{call_id}"
        accepted = self.client.post(
            f"{path}/accept", headers=self.advisor, name="/api/v1/calls/[id]/accept"
        )
        if not accepted.ok:
            return
        for party in (self.caller, self.advisor):
            self.client.post(
                f"{path}/sandbox/presence",
                json={"present": True},
                headers=party,
                name="/api/v1/calls/[id]/sandbox/presence",
            )
        talk_began = time.monotonic()
        talk_for = random.uniform(3, 8)
        while time.monotonic() - talk_began < talk_for:  # the call screen's meter
            time.sleep(min(2.0, max(0.0, talk_for - (time.monotonic() - talk_began))))
            self.client.get(path, headers=self.caller, name="/api/v1/calls/[id]")
        hanging_up = random.choice((self.caller, self.advisor))
        ended = self.client.post(
            f"{path}/hangup", headers=hanging_up, name="/api/v1/calls/[id]/hangup"
        )
        talked = time.monotonic() - talk_began
        if ended.ok:
            with TALK_LOG.open("a") as log:
                log.write(json.dumps({"call_id": call_id, "talk_seconds": talked}) + "\n")
        self.client.get(f"{path}/receipt", headers=self.caller, name="/api/v1/calls/[id]/receipt")


class Owner(LicenseeUser):
    """The licensee's owner reading the dashboard (session sign-in, as in a browser)."""

    fixed_count = 1
    wait_time = between(1, 3)
    PAGES = ("/dashboard/", "/dashboard/calls/", "/dashboard/users/", "/dashboard/advisors/")

    def on_start(self) -> None:
        super().on_start()
        self.client.get("/account/login/", name="/account/login/")
        with self.client.post(
            "/account/login/",
            data={
                "username": PEOPLE["owner_email"],
                "password": PEOPLE["owner_password"],
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            name="/account/login/",
            catch_response=True,
        ) as response:
            _signed_in_or_fail(response)

    @task
    def dashboard(self) -> None:
        page = random.choice(self.PAGES)
        with self.client.get(page, name=page, catch_response=True) as response:
            _signed_in_or_fail(response)


def _signed_in_or_fail(response) -> None:
    """A page that sends the owner back to the sign-in form answered 200 but served nothing
    of the dashboard: that is a failure."""
    if response.ok and "/account/login/" in response.url:
        response.failure("sent back to the sign-in page")
    elif response.ok:
        response.success()
