"""PostgreSQL dropping every connection under a running web server, as a restart of the
server does to its clients: the next requests reconnect (Django's connection health checks)
and answer as before, never with a 500 or an HTML error page, with no restart of Callrix.

The test server is shared by the whole run and cannot be restarted safely from inside it, so
the restart is played on the test's database by terminating all its backends
(`pg_terminate_backend`), which is exactly what clients of a restarted server meet: their
connections closed under them. Requests in flight meanwhile answer a JSON 503."""

from __future__ import annotations

import threading

from django.db import connection

from tests.chaos.conftest import Answer, http

HOST = "alpha.localhost"


def _terminate_backends() -> int:
    """Every connection to the test database but this process's own, closed by the server."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def _rounds(web) -> list[Answer]:
    return [
        http("GET", f"{web.url}/api/platform/v1/health", "localhost"),
        http("GET", f"{web.url}/api/v1/health", HOST),
        http("GET", f"{web.url}/api/v1/advisors", HOST),  # reads the licensee's schema
        http("GET", f"{web.url}/", HOST),
    ]


def _as_expected(answers: list[Answer]) -> None:
    health, licensee_health, advisors, page = answers
    assert health.status == 200 and health.json()["database"] is True, health
    assert licensee_health.status == 200, licensee_health
    assert advisors.status == 200 and "results" in advisors.json(), advisors
    assert page.status == 200, page


def test_the_web_server_reconnects_after_its_connections_are_dropped(committed, web):
    _as_expected(_rounds(web))  # its connections are open (kept between requests)
    assert _terminate_backends() >= 1
    _as_expected(_rounds(web))
    assert _terminate_backends() >= 1  # and again: no state was left broken
    _as_expected(_rounds(web))


def test_requests_in_flight_while_connections_drop_answer_json(committed, web):
    answers: list[Answer] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                answers.append(http("GET", f"{web.url}/api/v1/health", HOST))
                answers.append(http("GET", f"{web.url}/api/v1/advisors", HOST))
            except Exception as error:  # no answer at all: a failure too
                failures.append(error)

    clients = [threading.Thread(target=load) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        for _ in range(10):  # about three seconds of a server that keeps going away
            _terminate_backends()
            stop.wait(0.3)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert answers and not failures, failures
    for answer in answers:
        assert answer.content_type.startswith("application/json"), answer
        assert answer.status in (200, 503), answer
    _as_expected(_rounds(web))
