"""The end user's wallet: balance and history."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

# ninja.Query is, to mypy, a generic alias; the function behind it (the same call) is typed.
from ninja.params.functions import Query

from identity.auth import END_USER_ROLES, AuthenticatedRequest, TokenAuth
from kernel.inputs import Offset
from tenant_apps.wallets import selectors

router = Router(tags=["wallet"])


class WalletOut(Schema):
    balance: int
    held: int
    available: int
    owed: int
    currency: str


class WalletLineOut(Schema):
    id: int
    created_at: datetime
    kind: str
    account: str
    amount: int
    description: str


class WalletLinesOut(Schema):
    count: int
    results: list[WalletLineOut]


@router.get("/wallet", response=WalletOut, auth=TokenAuth(roles=END_USER_ROLES))
def wallet(request: AuthenticatedRequest) -> dict[str, object]:
    balance = selectors.wallet_balance_get(user_id=request.auth.pk)
    return {
        "balance": balance.balance_minor,
        "held": balance.held_minor,
        "available": balance.available_minor,
        "owed": balance.owed_minor,
        "currency": balance.currency,
    }


@router.get("/wallet/transactions", response=WalletLinesOut, auth=TokenAuth(roles=END_USER_ROLES))
def wallet_transactions(
    request: AuthenticatedRequest,
    limit: int = Query(default=20, ge=1, le=100),
    offset: Offset = 0,
) -> dict[str, object]:
    entries = selectors.wallet_entries(user_id=request.auth.pk)
    page = entries[offset : offset + limit]
    return {
        "count": entries.count(),
        "results": [
            {
                "id": entry.pk,
                "created_at": entry.created_at,
                "kind": entry.transaction.kind,
                "account": entry.account.kind,
                "amount": entry.amount_minor,
                "description": entry.transaction.description,
            }
            for entry in page
        ],
    }
