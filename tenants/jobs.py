"""Carries the active licensee into background jobs (docs/architecture.md §4).

Every message records the schema active when it was sent; the worker activates that schema
before the actor runs and always returns to public afterwards. A message naming a schema that
no licensee owns is failed loudly (dead-lettered, never retried) and its actor never runs.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import SkipMessage

from kernel.tenant_connection import connection

logger = logging.getLogger(__name__)

SCHEMA_OPTION = "callrix_schema"


class UnknownTenantSchema(Exception):
    pass


class TenantMessageMiddleware(dramatiq.Middleware):
    def before_enqueue(self, broker, message, delay):
        message.options.setdefault(SCHEMA_OPTION, connection.schema_name or "public")

    def before_process_message(self, broker, message):
        from tenants.selectors import licensee_get_by_schema

        schema_name = message.options.get(SCHEMA_OPTION, "public")
        if schema_name == "public":
            connection.set_schema_to_public()
            return
        licensee = licensee_get_by_schema(schema_name=schema_name)
        if licensee is None:
            logger.error(
                "Job %s (%s) names schema %r, which no licensee owns; it was not run.",
                message.message_id,
                message.actor_name,
                schema_name,
            )
            message.fail()
            raise SkipMessage(f"unknown tenant schema {schema_name!r}")
        connection.set_tenant(licensee)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        connection.set_schema_to_public()

    def after_skip_message(self, broker, message):
        connection.set_schema_to_public()
