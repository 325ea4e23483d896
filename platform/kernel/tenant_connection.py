"""Django's default database connection as django-tenants extends it, with types.

django-tenants' backend keeps the current schema and tenant on the connection; Django's
stubs know only the base wrapper. `connection` here is the very object `django.db.connection`
is (the same per-thread proxy), seen through a type that names those additions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from django.db import connection as _connection

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


class SchemaTenant(Protocol):
    """What the connection holds as its tenant: a licensee, or (after `set_schema`, e.g.
    in `schema_context`) a stand-in that knows only the schema's name."""

    @property
    def schema_name(self) -> str: ...


if TYPE_CHECKING:

    class TenantDatabaseWrapper(BaseDatabaseWrapper):
        tenant: SchemaTenant
        schema_name: str
        include_public_schema: bool

        def set_tenant(self, tenant: SchemaTenant, include_public: bool = True) -> None: ...

        def set_schema(
            self, schema_name: str, include_public: bool = True, tenant_type: str | None = None
        ) -> None: ...

        def set_schema_to_public(self) -> None: ...


connection = cast("TenantDatabaseWrapper", _connection)
