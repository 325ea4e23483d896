"""The one door from the licensee's side (tenant apps, compliance's licensee side) into
tenancy: which licensee a schema or a command means, its addresses and custom domains, the
licensees a periodic job visits, and the hooks (`tenants.hooks`). Tenant apps import nothing
else of `tenants` and no public-schema model (import contract); what they get here are
licensees as tenancy hands them out."""

from __future__ import annotations

from tenants.addresses import licensee_host, licensee_origin, public_origin
from tenants.domains import (
    custom_domain_add,
    custom_domain_list,
    custom_domain_remove,
    custom_domain_verify,
)
from tenants.hooks import (
    admin_action_committed,
    figure_reader_register,
    licensee_terminated,
    licensee_terms_set,
)
from tenants.licensee_choice import licensee_named, licensees_chosen
from tenants.selectors import (
    licensee_current,
    licensee_get_by_schema,
    licensee_list_serving,
    schema_exists,
)

__all__ = [
    "admin_action_committed",
    "custom_domain_add",
    "custom_domain_list",
    "custom_domain_remove",
    "custom_domain_verify",
    "figure_reader_register",
    "licensee_current",
    "licensee_get_by_schema",
    "licensee_host",
    "licensee_list_serving",
    "licensee_named",
    "licensee_origin",
    "licensee_terminated",
    "licensee_terms_set",
    "licensees_chosen",
    "public_origin",
    "schema_exists",
]
