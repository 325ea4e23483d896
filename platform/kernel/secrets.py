"""Secrets stay out of everything that could print them.

Django's debug page (served only to this machine, `callrix.errors`) lists no settings at all,
and masks local variables whose names look secret, credentials and private keys included:
the stock filter lets `FCM_DEFAULT_CREDENTIALS` (a service-account private key) through.
"""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

SECRET_NAMES = re.compile(
    r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|CREDENTIAL|PRIVATE|AUTH|COOKIE|DSN|_URL$", re.I
)


class NoSettingsExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = SECRET_NAMES

    def get_safe_settings(self) -> dict[str, Any]:
        return {}
