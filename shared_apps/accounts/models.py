"""Licensee account holders: the people who contract with Callrix (privacy policy §2.1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AccountHolder(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_holder"
    )
    licensee = models.ForeignKey(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="account_holders",
    )
    full_name = models.CharField(max_length=200)
    company = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    billing_line1 = models.CharField(max_length=200)
    billing_line2 = models.CharField(max_length=200, blank=True)
    billing_city = models.CharField(max_length=100)
    billing_postal_code = models.CharField(max_length=20)
    billing_country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="account_holder_country_iso",
                condition=models.Q(billing_country__regex=r"^[A-Z]{2}$"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.company})"
