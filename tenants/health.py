from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def database_answers(connection) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "does not answer"; the reason goes to the log
        logger.exception("database health check failed")
        return False


def redis_answers(cache) -> bool:
    try:
        cache.set("health:ping", "1", timeout=10)
        return cache.get("health:ping") == "1"
    except Exception as error:  # the reason goes to the log, once per check, without a trace
        logger.warning("redis health check failed: %s", error)
        return False
