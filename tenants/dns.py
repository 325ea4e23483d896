"""DNS TXT look-ups, behind one small interface so tests run offline (`FakeResolver`).

`SystemResolver` uses dnspython when it is installed and otherwise asks the system's
nameservers (/etc/resolv.conf) itself: one TXT query over UDP, in the standard library.
`settings.DNS_RESOLVER` names the class to use.
"""

from __future__ import annotations

import secrets
import socket
import struct
from pathlib import Path
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

TXT, IN = 16, 1
NXDOMAIN = 3
TIMEOUT_SECONDS = 3.0


class DnsLookupFailed(Exception):
    """No nameserver answered (as opposed to an answer without the record)."""


class Resolver(Protocol):
    def txt_records(self, name: str) -> list[str]:
        """Every TXT record at `name` (each one's strings joined), [] when there is none."""
        ...


def resolver() -> Resolver:
    return import_string(settings.DNS_RESOLVER)()


class FakeResolver:
    """Answers from `records` (name -> TXT values); tests fill and clear it."""

    records: ClassVar[dict[str, list[str]]] = {}

    def txt_records(self, name: str) -> list[str]:
        return list(self.records.get(name.lower().rstrip("."), []))


class SystemResolver:
    def __init__(self, nameservers: list[tuple[str, int]] | None = None) -> None:
        self.nameservers = nameservers

    def txt_records(self, name: str) -> list[str]:
        if self.nameservers is None:
            try:
                return _dnspython_txt(name)
            except ImportError:
                pass
        servers = self.nameservers or [(host, 53) for host in _system_nameservers()]
        for server in servers:
            try:
                return txt_query(name, server)
            except (OSError, ValueError, struct.error):
                continue
        raise DnsLookupFailed(f"No nameserver answered for {name}.")


def _dnspython_txt(name: str) -> list[str]:
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=TIMEOUT_SECONDS)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as error:
        raise DnsLookupFailed(str(error)) from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def _system_nameservers() -> list[str]:
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        return []
    return [
        line.split()[1] for line in lines if line.startswith("nameserver") and len(line.split()) > 1
    ]


def txt_question(name: str, query_id: int) -> bytes:
    header = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0)  # recursion desired
    labels = b"".join(
        bytes([len(label)]) + label for label in name.rstrip(".").encode("idna").split(b".")
    )
    return header + labels + b"\x00" + struct.pack(">HH", TXT, IN)


def txt_query(name: str, server: tuple[str, int]) -> list[str]:
    query_id = secrets.randbelow(0x10000)
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT_SECONDS)
        sock.sendto(txt_question(name, query_id), server)
        reply, _ = sock.recvfrom(4096)
    return txt_answers(reply, query_id)


def _skip_name(message: bytes, offset: int) -> int:
    while True:
        length = message[offset]
        if length & 0xC0 == 0xC0:  # compression pointer: two bytes end the name
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def txt_answers(message: bytes, query_id: int) -> list[str]:
    """The TXT records in a DNS reply (RFC 1035 §4.1), [] for NXDOMAIN."""
    reply_id, flags, questions, answers, _, _ = struct.unpack(">HHHHHH", message[:12])
    if reply_id != query_id:
        raise ValueError("a reply to another query")
    rcode = flags & 0x000F
    if rcode == NXDOMAIN:
        return []
    if rcode:
        raise ValueError(f"nameserver error {rcode}")
    offset = 12
    for _ in range(questions):
        offset = _skip_name(message, offset) + 4
    found = []
    for _ in range(answers):
        offset = _skip_name(message, offset)
        record_type, _, _, length = struct.unpack(">HHIH", message[offset : offset + 10])
        offset += 10
        data = message[offset : offset + length]
        offset += length
        if record_type != TXT:  # e.g. the CNAME leading to it
            continue
        parts, cursor = [], 0
        while cursor < len(data):
            size = data[cursor]
            parts.append(data[cursor + 1 : cursor + 1 + size])
            cursor += 1 + size
        found.append(b"".join(parts).decode("utf-8", "replace"))
    return found
