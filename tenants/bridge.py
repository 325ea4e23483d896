"""The one door from the licensee's side (tenant apps, compliance's licensee side) into
tenancy: which licensee a schema or a command means, its addresses and custom domains, the
licensees a periodic job visits, the addresses its mail may come from, and the hooks
(`tenants.hooks`). Tenant apps import nothing else of `tenants` and no public-schema model
(import contract); what they get here are licensees as tenancy hands them out.

Where tenant code has to name a licensee's type (an annotation), it names `LicenseeView`:
what tenant code may read of a licensee, as a Protocol. The `Licensee` model itself is not
exported, not even for annotations: its manager would let tenant code query the public
schema, and an `if TYPE_CHECKING` import of `tenants.models` is still an import to the
contracts. import-linter's `exclude_type_checking_imports` would let it through, but that
option is global: it would let every type-only import past every contract, the public-schema
models included. The functions here still hand out `Licensee` instances; each has every
attribute the Protocol names, so nothing is converted."""

from __future__ import annotations

from typing import Protocol

from tenants.addresses import licensee_host, licensee_origin, public_origin
from tenants.domains import (
    custom_domain_add,
    custom_domain_list,
    custom_domain_remove,
    custom_domain_verify,
)
from tenants.hooks import (
    LicenseeTerms,
    PlanUsage,
    admin_action_committed,
    figure_reader_register,
    ledger_checked,
    licensee_payouts_paused,
    licensee_plan_usage,
    licensee_terminated,
    licensee_terms_at,
    licensee_terms_set,
)
from tenants.licensee_choice import licensee_named, licensees_chosen
from tenants.mail_sender import mail_sender_set, own_mail_domains
from tenants.selectors import (
    licensee_current,
    licensee_get_by_schema,
    licensee_list_serving,
    schema_exists,
)


class LicenseeView(Protocol):
    """What tenant code may read of a licensee (read-only): what `licensee_current()` and
    the other functions here hand out."""

    @property
    def pk(self) -> int: ...
    @property
    def schema_name(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def status(self) -> str: ...


__all__ = [
    "LicenseeTerms",
    "LicenseeView",
    "PlanUsage",
    "admin_action_committed",
    "custom_domain_add",
    "custom_domain_list",
    "custom_domain_remove",
    "custom_domain_verify",
    "figure_reader_register",
    "ledger_checked",
    "licensee_current",
    "licensee_get_by_schema",
    "licensee_host",
    "licensee_list_serving",
    "licensee_named",
    "licensee_origin",
    "licensee_payouts_paused",
    "licensee_plan_usage",
    "licensee_terminated",
    "licensee_terms_at",
    "licensee_terms_set",
    "licensees_chosen",
    "mail_sender_set",
    "own_mail_domains",
    "public_origin",
    "schema_exists",
]
