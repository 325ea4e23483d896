"""Who runs Callrix, as its website's legal notice, contact page and footer name it (the
privacy policy's section 1 and the processing register say the same)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Company:
    legal_name: str
    country: str
    email: str
    supervisory_authority: str


COMPANY = Company(
    legal_name="KCraft Studio LTD",
    country="Cyprus",
    email="hello@callrix.io",
    supervisory_authority="Commissioner for Personal Data Protection, Republic of Cyprus",
)
