"""The end user's wallet: balance and history (one line per business event); the raw ledger
entries behind it for the licensee's admins."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

# ninja.Query is, to mypy, a generic alias; the function behind it (the same call) is typed.
from ninja.params.functions import Query

from identity.auth import ADMIN_ROLES, END_USER_ROLES, AuthenticatedRequest, TokenAuth
from kernel.inputs import Id, Offset
from tenant_apps.wallets import history, selectors

router = Router(tags=["wallet"])


class WalletOut(Schema):
    balance: int
    held: int
    available: int
    owed: int
    currency: str


class WalletLineOut(Schema):
    """One business event. `id`, `kind`, `amount` and `description` keep the meaning they had
    when each line was one ledger entry (`id` is now the event's first entry)."""

    id: int
    key: str
    created_at: datetime
    kind: str
    account: str
    amount: int
    description: str
    reserved: int
    reserved_text: str
    call_id: int | None
    receipt_url: str | None


class WalletLinesOut(Schema):
    count: int
    results: list[WalletLineOut]


class WalletEntryOut(Schema):
    id: int
    created_at: datetime
    kind: str
    account: str
    amount: int
    description: str
    transaction_id: int


class WalletEntriesOut(Schema):
    count: int
    results: list[WalletEntryOut]


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
    count, lines = history.wallet_lines(user_id=request.auth.pk, limit=limit, offset=offset)
    return {
        "count": count,
        "results": [
            {
                "id": line.first_entry_id,
                "key": line.key,
                "created_at": line.created_at,
                "kind": line.kind,
                "account": "wallet",
                "amount": line.amount_minor,
                "description": line.text,
                "reserved": line.reserved_minor,
                "reserved_text": line.reserved_text,
                "call_id": line.call_id,
                "receipt_url": f"/api/v1/calls/{line.call_id}/receipt" if line.call_id else None,
            }
            for line in lines
        ],
    }


@router.get(
    "/admin/users/{user_id}/wallet/entries",
    response=WalletEntriesOut,
    auth=TokenAuth(roles=ADMIN_ROLES),
)
def wallet_entries_for_admin(
    request: AuthenticatedRequest,
    user_id: Id,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> dict[str, object]:
    """The raw ledger entries of a person's wallet, hold and debt, for tracing money."""
    entries = selectors.wallet_entries(user_id=user_id)
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
                "transaction_id": entry.transaction_id,
            }
            for entry in page
        ],
    }
