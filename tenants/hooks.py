"""Ports between tenancy and the apps on either side of it. Callrix's own business
(`shared_apps`) and the licensee's (`tenant_apps`) never import each other: where one must
reach the other, tenancy carries the message. These hooks import no model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

# Sent inside the transaction that provisions a licensee on a plan; kwargs: licensee,
# revenue_share_bps. The licensee's pricing takes Callrix's fee from it.
licensee_terms_set = Signal()

# Sent inside the transaction that ends a licensee's contract; kwargs: licensee.
licensee_terminated = Signal()

# Sent once a licensee admin's dashboard action is committed; kwargs: licensee_id (int),
# action (str). It becomes an anonymous count in the public schema (privacy policy §2.3).
admin_action_committed = Signal()

FigureReader = Callable[..., Any]
_figure_readers: dict[str, FigureReader] = {}


def figure_reader_register(name: str, reader: FigureReader) -> None:
    """A tenant app offers one figure read out of the current licensee's schema (counts and
    sums only, never a row that identifies anyone)."""
    _figure_readers[name] = reader


def figure_reader(name: str) -> FigureReader:
    try:
        return _figure_readers[name]
    except KeyError:
        raise LookupError(f"No tenant app reads the figure '{name}'.") from None
