from __future__ import annotations

from django.db.models import Q

from identity.models import ConsentRecord, User


def consent_current(*, user: User, purpose: str) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(user=user, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .first()
    )


def consent_history(*, user: User):
    return ConsentRecord.objects.filter(user=user).order_by("-recorded_at", "-id")


def user_search(*, role: str | None = None, text: str | None = None):
    users = User.objects.order_by("-date_joined", "-id")
    if role:
        users = users.filter(role=role)
    if text:
        users = users.filter(Q(email__icontains=text) | Q(display_name__icontains=text))
    return users
