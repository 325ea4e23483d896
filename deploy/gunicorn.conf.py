"""gunicorn settings for the `web` service (`gunicorn -c /app/deploy/gunicorn.conf.py`).

Its own log lines go through the same JSON formatter as Django's (callrix/log_format.py),
and there is no access log: Traefik sees every request, and a path can carry tokens.
"""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_WORKERS", "3"))
timeout = 30
graceful_timeout = 30
# Only Traefik reaches this port; it sets X-Forwarded-Proto (read by Django's
# SECURE_PROXY_SSL_HEADER) and X-Forwarded-For.
forwarded_allow_ips = "*"
accesslog = None
# No control socket: nothing uses it, and the app user's home is not writable in the image.
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "kernel.log_format.JsonLogFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    # gunicorn merges this over its own defaults, whose root logger names a handler that
    # the line above replaces: say where the root logger writes.
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}
