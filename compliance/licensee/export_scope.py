"""What a tenant export contains, decided table by table.

Every table in a licensee's schema is either exported (whole, or without named columns) or
excluded with a reason. The tables are read from the database catalog, not from Django's
models, so a table made by a migration, a third-party app or raw SQL is seen too; an export
refuses to run while any table has no decision, and a test fails before that can ship.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from compliance.licensee.errors import ExportScopeIncomplete


@dataclass(frozen=True)
class Exported:
    # column -> why it stays behind; the rest of the row is exported
    omitted_columns: dict[str, str] = field(default_factory=dict)


EVERYTHING = Exported()

EXPORTED_TABLES: dict[str, Exported] = {
    "advisors_advisor": EVERYTHING,
    "advisors_advisorapplication": EVERYTHING,
    "advisors_commissionoverride": EVERYTHING,
    "advisors_favorite": EVERYTHING,
    # Booked sessions and the advisors' weekly availability.
    "appointments_advisorschedule": EVERYTHING,
    "appointments_appointment": EVERYTHING,
    "appointments_availabilitywindow": EVERYTHING,
    # Django's catalogue of models and permissions: needed to read the grants below.
    "auth_group": EVERYTHING,
    "auth_group_permissions": EVERYTHING,
    "auth_permission": EVERYTHING,
    "django_content_type": EVERYTHING,
    # The licensee's own record of what its admins did in the dashboard.
    "dashboard_auditentry": EVERYTHING,
    "calls_call": EVERYTHING,
    # Chat transcripts: the licensee's end-user data like the calls they belong to.
    "calls_chatmessage": EVERYTHING,
    "calls_livekitevent": EVERYTHING,
    # Who waited for which advisor, and when: the licensee's end-user data like calls.
    "calls_queueentry": EVERYTHING,
    "calls_review": EVERYTHING,
    "calls_spendingcap": EVERYTHING,
    "compliance_tenantexport": Exported(
        omitted_columns={"file_name": "where Callrix stores the archive; meaningless outside"}
    ),
    "compliance_privacyrequest": EVERYTHING,
    "identity_consentrecord": EVERYTHING,
    "identity_user": Exported(
        omitted_columns={
            "password": "password hashes are credentials: they never leave the platform "
            "(privacy policy §10); people set a new password on the next platform",
        }
    ),
    "identity_user_groups": EVERYTHING,
    "identity_user_user_permissions": EVERYTHING,
    "notifications_device": EVERYTHING,
    "notifications_pushlog": EVERYTHING,
    "payments_creditgrant": EVERYTHING,
    "payments_dispute": EVERYTHING,
    "payments_refund": EVERYTHING,
    "payments_stripeevent": EVERYTHING,
    "mail_outbox_undeliveredmail": EVERYTHING,  # the licensee's mail that did not go out
    "payments_topup": Exported(
        omitted_columns={
            "client_secret": "a Stripe PaymentIntent secret that lets its holder complete "
            "the payment; the PaymentIntent id is exported",
        }
    ),
    "payments_topuppackage": EVERYTHING,
    "payments_topuppolicy": EVERYTHING,
    "payouts_payout": EVERYTHING,
    "payouts_payoutaccount": EVERYTHING,
    "payouts_payoutpolicy": EVERYTHING,
    "pricing_pricingpolicy": EVERYTHING,
    "promotions_promotion": EVERYTHING,
    "promotions_promotionuse": EVERYTHING,
    "wallets_ledgeraccount": EVERYTHING,
    # Parts of the licensee-wide accounts' balances: an account's balance is its row's plus
    # its shards'.
    "wallets_ledgeraccountshard": EVERYTHING,
    "wallets_ledgerentry": EVERYTHING,
    "wallets_ledgertransaction": EVERYTHING,
}

_LOCKOUT = (
    "sign-in attempts and lockouts (django-axes): short-lived security state that protects "
    "accounts, not the licensee's business records"
)
_TOKENS = "refresh tokens and their revocations: live credentials, worthless elsewhere"

EXCLUDED_TABLES: dict[str, str] = {
    "axes_accessattempt": _LOCKOUT,
    "axes_accessattemptexpiration": _LOCKOUT,
    "axes_accessfailurelog": _LOCKOUT,
    "axes_accesslog": _LOCKOUT,
    "django_migrations": "which schema migrations ran: Callrix's bookkeeping of the database "
    "layout, not data",
    "django_session": "signed-in browser sessions: live credentials, worthless elsewhere",
    "token_blacklist_blacklistedtoken": _TOKENS,
    "token_blacklist_outstandingtoken": _TOKENS,
    "payments_stripeconnection": "the licensee's Stripe secret keys, encrypted with Callrix's "
    "key: secrets the licensee already holds in its own Stripe dashboard",
    "notifications_firebaseproject": "the licensee's Firebase service-account key, encrypted "
    "with Callrix's key: a secret the licensee already holds in its own Firebase console",
    "job_outbox_pendingjob": "jobs waiting for the job queue while it was unreachable: "
    "Callrix's machinery, minutes old, whose results are exported where they are recorded",
}


@dataclass(frozen=True)
class TablePlan:
    name: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...]  # the primary key, so the same data gives the same file
    omitted_columns: dict[str, str]
    # The primary key when it is one integer column: the export then reads the table in
    # ranges of it (compliance/licensee/archive.py).
    integer_key: str | None = None


@dataclass(frozen=True)
class ExportPlan:
    schema: str
    tables: tuple[TablePlan, ...]
    excluded: dict[str, str]  # table -> reason, for the manifest


def schema_tables(schema: str) -> list[str]:
    """Every table of the schema, from the catalog (plain and partitioned tables)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = %s ORDER BY tablename",
            [schema],
        )
        return [row[0] for row in cursor.fetchall()]


def _undecided(tables: list[str]) -> list[str]:
    return [t for t in tables if t not in EXPORTED_TABLES and t not in EXCLUDED_TABLES]


def tables_undecided(schema: str) -> list[str]:
    return _undecided(schema_tables(schema))


INTEGER_TYPES = ("smallint", "integer", "bigint")


def _columns(schema: str, table: str) -> dict[str, str]:
    """Column -> data type, in the table's order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        )
        return dict(cursor.fetchall())


def _primary_key(schema: str, table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indisprimary AND i.indrelid = ("
            "  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            "  WHERE n.nspname = %s AND c.relname = %s) "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            [schema, table],
        )
        return [row[0] for row in cursor.fetchall()]


def export_plan(schema: str) -> ExportPlan:
    """What to export from `schema`; refuses while the decisions do not fit its tables."""
    tables = schema_tables(schema)
    undecided = _undecided(tables)
    if undecided:
        raise ExportScopeIncomplete(undecided_tables=undecided)
    plans, missing = [], []
    for table in tables:
        rule = EXPORTED_TABLES.get(table)
        if rule is None:
            continue
        all_columns = _columns(schema, table)
        missing += [f"{table}.{c}" for c in rule.omitted_columns if c not in all_columns]
        columns = [c for c in all_columns if c not in rule.omitted_columns]
        key = _primary_key(schema, table)
        ordered = set(key) <= set(columns)
        single_integer = len(key) == 1 and all_columns[key[0]] in INTEGER_TYPES
        plans.append(
            TablePlan(
                name=table,
                columns=tuple(columns),
                order_by=tuple(key) if ordered else (),
                omitted_columns=rule.omitted_columns,
                integer_key=key[0] if ordered and single_integer else None,
            )
        )
    if missing:
        raise ExportScopeIncomplete(missing_columns=missing)
    excluded = {table: EXCLUDED_TABLES[table] for table in tables if table in EXCLUDED_TABLES}
    return ExportPlan(schema=schema, tables=tuple(plans), excluded=excluded)
