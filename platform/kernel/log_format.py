"""Production log lines: one JSON object per line on stdout.

What a line may carry is decided here, not by whoever logs: time, level, logger, message,
and for request records the method, the URL *route* (`account/set-password/<uidb64>/<token>/`,
never the path with its ids or tokens) and the status. The request object itself (headers,
cookies, Authorization) and client addresses are never written.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            match = getattr(request, "resolver_match", None)
            route = f"/{match.route}" if match is not None and match.route else "<unresolved>"
            message = message.replace(request.path, route)
            line["method"] = getattr(request, "method", None)
            line["route"] = route
        status = getattr(record, "status_code", None)
        if status is not None:
            line["status"] = status
        line["message"] = message
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
