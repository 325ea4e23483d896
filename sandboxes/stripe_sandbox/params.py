"""Stripe's form encoding and typed parameters."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from sandboxes.stripe_sandbox.errors import StripeApiError

_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding into nested data: `metadata[a]=1` is a hash, `expand[0]=x` and
    `expand[]=x` are lists. Values stay strings, as on the wire."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_BRACKETED.findall("[" + rest)] if rest else [head]
        node = root
        for part in path[:-1]:
            node = _child_hash(node, part or str(len(node)))
        leaf = path[-1] or str(len(node))
        if isinstance(node.get(leaf), dict):
            raise StripeApiError(400, f"Invalid hash: {key} is given a plain value.", param=head)
        node[leaf] = value
    return _listify(root)


def _child_hash(node: dict[str, Any], part: str) -> dict[str, Any]:
    child = node.setdefault(part, {})
    if not isinstance(child, dict):
        raise StripeApiError(400, f"Invalid hash: {part} is given both a value and keys.")
    return child


def _listify(value: Any, key: str = "") -> Any:
    """Hashes keyed 0, 1, 2 … are arrays; metadata keys are the user's own, so never."""
    if not isinstance(value, dict) or key == "metadata":
        return value
    items = {k: _listify(v, k) for k, v in value.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


class Params:
    """Typed access to one request's parameters; unknown ones are refused as Stripe does,
    so a typo in the product fails in the tests rather than in production."""

    def __init__(self, data: dict[str, Any], allowed: tuple[str, ...] = ()):
        unknown = sorted(set(data) - set(allowed) - {"expand"})
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )
        self.data = data

    def integer(self, name: str, *, required: bool = False, minimum: int = 1) -> int | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return self._absent(name, required)
        try:
            value = int(str(raw))
        except ValueError:
            raise StripeApiError(
                400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name
            ) from None
        if value < minimum:
            raise StripeApiError(
                400,
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=name,
            )
        return value

    def text(
        self, name: str, *, required: bool = False, choices: tuple[str, ...] = ()
    ) -> str | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return self._absent(name, required)
        if not isinstance(raw, str):
            raise StripeApiError(400, f"Invalid string: {name}", param=name)
        if choices and raw not in choices:
            raise StripeApiError(
                400,
                f"Invalid {name}: must be one of {', '.join(choices)}",
                code="parameter_invalid_string",
                param=name,
            )
        return raw

    def currency(self) -> str:
        value = self.text("currency", required=True) or ""
        if len(value) != 3 or not value.isalpha():
            raise StripeApiError(400, f"Invalid currency: {value}", param="currency")
        return value.lower()

    def flag(self, name: str) -> bool | None:
        raw = self.data.get(name)
        return None if raw in (None, "") else str(raw).lower() == "true"

    def mapping(self, name: str) -> dict[str, Any]:
        raw = self.data.get(name)
        if raw in (None, ""):
            return {}
        if not isinstance(raw, dict):
            raise StripeApiError(400, f"Invalid object: {name}", param=name)
        return raw

    def metadata(self) -> dict[str, str]:
        # Stripe stores metadata values as strings; an empty value unsets the key.
        return {k: str(v) for k, v in self.mapping("metadata").items() if v != ""}

    @property
    def expand(self) -> list[str]:
        raw = self.data.get("expand") or []
        return [raw] if isinstance(raw, str) else list(raw)

    @staticmethod
    def _absent(name: str, required: bool) -> None:
        if required:
            raise StripeApiError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        return None


def item_fields(expand: list[str]) -> list[str]:
    return [name.removeprefix("data.") for name in expand if name.startswith("data.")]
