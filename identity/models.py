"""The user model and consent history. E-mail is the login and is unique within one schema
only: the same address may hold unrelated accounts at two licensees."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from kernel.tenant_connection import connection


class AccountDeletionRefused(Exception):
    """Accounts at a licensee are erased (pseudonymised), never deleted through the ORM."""


def _refuse_outside_public() -> None:
    # A licensee schema's search path also shows public tables, and Django's delete collector
    # follows every relation to the user model — including public-only ones such as the staff
    # admin's log — so an ORM delete here could reach rows of the public user with the same
    # id. Erasure (compliance) pseudonymises instead.
    if connection.schema_name != "public":
        raise AccountDeletionRefused(
            f"accounts in schema {connection.schema_name!r} are erased, not deleted"
        )


class UserQuerySet(models.QuerySet):
    def delete(self):
        _refuse_outside_public()
        return super().delete()


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", User.Role.STAFF)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        # In a licensee schema
        END_USER = "end_user"
        ADVISOR = "advisor"
        ADMIN = "admin"
        OWNER = "owner"
        # In the public schema
        STAFF = "staff"
        ACCOUNT_HOLDER = "account_holder"

    email = models.EmailField(max_length=254, unique=True)
    display_name = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.END_USER)
    birth_date = models.DateField(null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The person's own choices under GDPR Art. 18 and 21, set through /api/v1/me/processing.
    # A restricted account is kept and served, but used for nothing else (no marketing, no
    # analytics); an objection stops that one use. Checked where the use happens.
    processing_restricted = models.BooleanField(default=False)
    objects_to_marketing = models.BooleanField(default=False)
    objects_to_analytics = models.BooleanField(default=False)
    # Set when the account was erased (pseudonymised in place, see compliance.licensee.erasure).
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            # Stored lower-cased, so the plain UNIQUE is case-insensitive in effect.
            models.CheckConstraint(name="user_email_lowercase", condition=Q(email=Lower("email"))),
            models.CheckConstraint(
                name="user_role_valid",
                condition=Q(
                    role__in=["end_user", "advisor", "admin", "owner", "staff", "account_holder"]
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def delete(self, *args, **kwargs):
        _refuse_outside_public()
        return super().delete(*args, **kwargs)

    @property
    def is_licensee_admin(self) -> bool:
        return self.role in (self.Role.ADMIN, self.Role.OWNER)

    @property
    def marketing_refused(self) -> bool:
        """Marketing may not reach this person whatever they consented to before."""
        return self.processing_restricted or self.objects_to_marketing

    @property
    def analytics_refused(self) -> bool:
        return self.processing_restricted or self.objects_to_analytics


class ConsentRecord(models.Model):
    """One grant or withdrawal of consent, never edited: the history is the record (GDPR
    Art. 7(1): the controller must be able to show that consent was given)."""

    class Purpose(models.TextChoices):
        MARKETING = "marketing"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    granted = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=32, default="api")

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "-recorded_at"])]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{self.user_id} {verb} {self.purpose} at {self.recorded_at:%Y-%m-%d %H:%M}"
