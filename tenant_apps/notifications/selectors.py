from __future__ import annotations

from tenant_apps.notifications.models import FirebaseProject


def firebase_project_get() -> FirebaseProject | None:
    return FirebaseProject.objects.first()
