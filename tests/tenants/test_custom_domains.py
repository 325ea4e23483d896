"""A licensee's own domains: claimed by its owner or admins, proven by a DNS TXT record,
routed only once verified — and never to another licensee."""

from __future__ import annotations

import socket
import struct
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.dns import FakeResolver, SystemResolver, txt_question
from tenants.models import Domain
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def dns_records(settings):
    settings.DNS_RESOLVER = "tenants.dns.FakeResolver"
    FakeResolver.records = {}
    yield FakeResolver.records
    FakeResolver.records = {}


@pytest.fixture
def tokens(alpha, beta, make_user, api):
    made = {
        "alpha_owner": ("alpha", "owner2@alpha.test", "owner"),
        "alpha_admin": ("alpha", "admin@alpha.test", "admin"),
        "alpha_user": ("alpha", "user@alpha.test", "end_user"),
        "beta_admin": ("beta", "admin@beta.test", "admin"),
    }
    found = {}
    for name, (slug, email, role) in made.items():
        make_user(slug, email, role=role)
        response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        found[name] = response.json()["access"]
    return found


def _add(api, token, domain: str, slug: str = "alpha"):
    return api(slug).post("/api/v1/admin/domains", {"domain": domain}, token=token)


def _verify(api, token, domain: str, slug: str = "alpha"):
    return api(slug).post(f"/api/v1/admin/domains/{domain}/verify", token=token)


def test_a_domain_serves_only_once_its_txt_record_proves_it(api, tokens, dns_records, host_client):
    added = _add(api, tokens["alpha_admin"], "Advice.Aurora.Example.")
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["domain"] == "advice.aurora.example" and body["verified"] is False
    record = body["txt_record"]
    assert record["type"] == "TXT" and record["name"] == "_callrix-verify.advice.aurora.example"
    assert record["value"].startswith("callrix-verify=")
    visitor = host_client("advice.aurora.example")
    assert visitor.get("/api/v1/health").status_code == 404

    missing = _verify(api, tokens["alpha_admin"], "advice.aurora.example")
    assert missing.status_code == 422 and missing.json()["code"] == "domain_not_verified"
    dns_records[record["name"]] = ["v=spf1 -all", "callrix-verify=someone-elses-token"]
    assert _verify(api, tokens["alpha_admin"], "advice.aurora.example").status_code == 422
    assert visitor.get("/api/v1/health").status_code == 404

    dns_records[record["name"]].append(record["value"])
    verified = _verify(api, tokens["alpha_owner"], "advice.aurora.example")

    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert verified.json()["txt_record"] is None
    assert visitor.get("/api/v1/health").json()["licensee"] == "alpha"
    listed = api("alpha").get("/api/v1/admin/domains", token=tokens["alpha_admin"]).json()
    assert [(d["domain"], d["primary"], d["verified"]) for d in listed] == [
        ("alpha.localhost", True, True),
        ("advice.aurora.example", False, True),
    ]

    removed = api("alpha").delete(
        "/api/v1/admin/domains/advice.aurora.example", token=tokens["alpha_admin"]
    )
    assert removed.status_code == 204
    assert visitor.get("/api/v1/health").status_code == 404


def test_only_the_licensees_admins_manage_its_domains(api, tokens, dns_records):
    assert _add(api, None, "a.example.com").status_code == 401
    assert _add(api, tokens["alpha_user"], "a.example.com").status_code == 403
    assert api("alpha").get("/api/v1/admin/domains", token=tokens["alpha_user"]).status_code == 403
    # A token from beta is worthless on alpha's host.
    assert _add(api, tokens["beta_admin"], "a.example.com").status_code == 401


@pytest.mark.parametrize(
    "domain",
    [
        "localhost",
        "sub.localhost",
        "beta.localhost",
        "www.localhost",
        "10.0.0.1",
        "not a domain",
        "-bad.example.com",
        "nodot",
        "a" * 64 + ".example.com",
        "",
    ],
)
def test_bad_domains_are_refused(api, tokens, domain):
    response = _add(api, tokens["alpha_admin"], domain)

    assert response.status_code == 422
    assert response.json()["field"] == "domain"


def test_one_licensees_domain_never_serves_another(api, tokens, dns_records, host_client):
    record = _add(api, tokens["alpha_admin"], "advice.aurora.example").json()["txt_record"]
    dns_records[record["name"]] = [record["value"]]

    # Beta cannot claim, verify or remove alpha's domain, verified or not.
    taken = _add(api, tokens["beta_admin"], "advice.aurora.example", slug="beta")
    foreign_verify = _verify(api, tokens["beta_admin"], "advice.aurora.example", slug="beta")
    foreign_delete = api("beta").delete(
        "/api/v1/admin/domains/advice.aurora.example", token=tokens["beta_admin"]
    )
    assert taken.status_code == 409 and taken.json()["code"] == "domain_taken"
    assert foreign_verify.status_code == 404 and foreign_delete.status_code == 404

    _verify(api, tokens["alpha_admin"], "advice.aurora.example")
    assert _add(api, tokens["beta_admin"], "advice.aurora.example", slug="beta").status_code == 409
    assert host_client("advice.aurora.example").get("/api/v1/health").json()["licensee"] == "alpha"
    beta_list = api("beta").get("/api/v1/admin/domains", token=tokens["beta_admin"]).json()
    assert [d["domain"] for d in beta_list] == ["beta.localhost"]


def test_an_unverified_claim_lapses_for_others_after_a_week(api, tokens, dns_records):
    _add(api, tokens["alpha_admin"], "squat.example.com")

    early = _add(api, tokens["beta_admin"], "squat.example.com", slug="beta")
    Domain.objects.filter(domain="squat.example.com").update(
        created_at=timezone.now() - timedelta(days=8)
    )
    later = _add(api, tokens["beta_admin"], "squat.example.com", slug="beta")

    assert early.status_code == 409
    assert later.status_code == 201
    assert Domain.objects.get(domain="squat.example.com").tenant.slug == "beta"


def test_the_main_address_stays_and_domains_are_limited(api, tokens, dns_records):
    primary = api("alpha").delete(
        "/api/v1/admin/domains/alpha.localhost", token=tokens["alpha_admin"]
    )
    twice = [_add(api, tokens["alpha_admin"], "one.example.com") for _ in range(2)]
    more = [_add(api, tokens["alpha_admin"], f"d{n}.example.com") for n in range(5)]

    assert primary.status_code == 409
    assert [r.status_code for r in twice] == [201, 409]
    assert [r.status_code for r in more] == [201, 201, 201, 201, 422]


def test_dns_failure_is_a_clear_retry_later(api, tokens, settings):
    settings.DNS_RESOLVER = "tests.tenants.test_custom_domains.UnreachableResolver"
    _add(api, tokens["alpha_admin"], "down.example.com")

    response = _verify(api, tokens["alpha_admin"], "down.example.com")

    assert response.status_code == 422 and "try again" in response.json()["detail"]


class UnreachableResolver(SystemResolver):
    def __init__(self):
        super().__init__(nameservers=[("127.0.0.1", _closed_udp_port())])


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _txt_reply(query: bytes, values: list[bytes], rcode: int = 0) -> bytes:
    """A nameserver's answer: the question echoed, a CNAME, then one TXT record per value,
    names compressed as real servers do."""
    query_id = struct.unpack(">H", query[:2])[0]
    question = query[12:]
    header = struct.pack(">HHHHHH", query_id, 0x8180 | rcode, 1, 1 + len(values), 0, 0)
    cname_target = b"\x06target\xc0\x0c"
    answers = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, len(cname_target)) + cname_target
    for value in values:
        chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [b""]
        rdata = b"".join(bytes([len(chunk)]) + chunk for chunk in chunks)
        answers += b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(rdata)) + rdata
    return header + question + answers


@pytest.fixture
def nameserver():
    """A nameserver on a local UDP port answering TXT queries from `answers`."""
    answers: dict[str, tuple[list[bytes], int]] = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                query, client = sock.recvfrom(512)
            except OSError:
                return
            labels, offset = [], 12
            while query[offset]:
                labels.append(query[offset + 1 : offset + 1 + query[offset]].decode())
                offset += 1 + query[offset]
            values, rcode = answers.get(".".join(labels), ([], 3))
            sock.sendto(_txt_reply(query, values, rcode), client)

    threading.Thread(target=serve, daemon=True).start()
    yield answers, sock.getsockname()
    sock.close()


def test_the_standard_library_resolver_reads_txt_records_over_udp(nameserver):
    answers, address = nameserver
    long_value = b"x" * 300  # split into two strings, as DNS requires
    answers["_callrix-verify.advice.example"] = ([b"callrix-verify=abc", long_value], 0)
    resolver = SystemResolver(nameservers=[address])

    assert resolver.txt_records("_callrix-verify.advice.example") == [
        "callrix-verify=abc",
        "x" * 300,
    ]
    assert resolver.txt_records("nothing.example") == []  # NXDOMAIN


def test_the_question_is_a_recursive_txt_query():
    question = txt_question("a.example", 0x1234)

    assert question[:4] == b"\x12\x34\x01\x00"
    assert question[12:] == b"\x01a\x07example\x00\x00\x10\x00\x01"
