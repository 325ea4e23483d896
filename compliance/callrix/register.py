"""The record of processing activities (GDPR Art. 30) for what Callrix processes as
controller: its licensees' account data in the public schema, never their end users' (the
licensee is their controller). The public page, the platform API and the tests all read this
one register; nothing else states these facts.

Sources are the sections of Callrix's published privacy policy (each entry's `policy_section`;
the published versions are kept by `shared_apps.privacy`).
"""

from __future__ import annotations

from dataclasses import dataclass

CONTROLLER = "KCraft Studio LTD"
CONTROLLER_CONTACT = "hello@callrix.io"
SUPERVISORY_AUTHORITY = "Commissioner for Personal Data Protection, Republic of Cyprus"


@dataclass(frozen=True)
class Retention:
    key: str
    period_days: int
    period: str  # as people say it
    starts: str  # what starts the clock
    then: str  # what happens when it runs out
    policy_section: str


@dataclass(frozen=True)
class DataCategory:
    key: str
    name: str
    items: tuple[str, ...]
    retention: Retention
    policy_section: str
    # Models (app_label.Model) that hold it in the public schema; empty when only server
    # logs do.
    stored_in: tuple[str, ...] = ()
    held_by: str | None = None  # key of the processor holding it instead of us


@dataclass(frozen=True)
class Purpose:
    key: str
    name: str
    legal_basis: str
    article: str
    categories: tuple[str, ...]  # DataCategory keys


@dataclass(frozen=True)
class Processor:
    key: str
    name: str
    purpose: str
    location: str
    transfer_safeguard: str
    # Modules that talk to it (the only ones allowed to import its SDK) and the top-level
    # packages that do the talking; both empty for a processor the code never calls.
    gateway_modules: tuple[str, ...] = ()
    sdk_packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessingRegister:
    controller: str
    contact: str
    supervisory_authority: str
    categories: tuple[DataCategory, ...]
    purposes: tuple[Purpose, ...]
    retention: tuple[Retention, ...]
    processors: tuple[Processor, ...]

    def category(self, key: str) -> DataCategory:
        return next(category for category in self.categories if category.key == key)

    def processor(self, key: str) -> Processor:
        return next(processor for processor in self.processors if processor.key == key)


ACCOUNT_RETENTION = Retention(
    key="account",
    period_days=30,
    period="30 days after the license agreement ends",
    starts="termination of the license agreement",
    then="permanently deleted (the 30 days allow the licensee to export its data)",
    policy_section="§7",
)
FINANCIAL_RETENTION = Retention(
    key="financial",
    period_days=7 * 365 + 2,  # seven years, leap days included
    period="7 years",
    starts="the date of the invoice or payment record",
    then="deleted (kept this long for tax and accounting law)",
    policy_section="§7",
)
CORRESPONDENCE_RETENTION = Retention(
    key="correspondence",
    period_days=2 * 365 + 1,
    period="2 years after the last interaction",
    starts="the last message or call with the licensee",
    then="deleted",
    policy_section="§7",
)
TECHNICAL_RETENTION = Retention(
    key="technical",
    period_days=90,
    period="90 days",
    starts="collection",
    then="purged automatically",
    policy_section="§7",
)

CATEGORIES = (
    DataCategory(
        key="account",
        name="Account data",
        items=(
            "Full name and company name",
            "Email address",
            "Phone number (if provided)",
            "Billing address",
        ),
        retention=ACCOUNT_RETENTION,
        policy_section="§2.1",
        stored_in=("accounts.AccountHolder", "identity.User", "privacy.PolicyChangeNotice"),
    ),
    DataCategory(
        key="payment",
        name="Payment data",
        items=(
            "Card and bank details, held by Stripe (Callrix stores no card numbers, CVVs or "
            "full bank account details)",
            "Invoices and payment records",
        ),
        retention=FINANCIAL_RETENTION,
        policy_section="§2.2",
        stored_in=(
            "billing.Invoice",
            "billing.Subscription",
            "billing.RevenueShareReport",
            "billing.BillingEvent",
        ),
        held_by="stripe",
    ),
    DataCategory(
        key="usage",
        name="Usage data",
        items=(
            "Login timestamps and frequency",
            "Features accessed and actions taken in the admin dashboard",
            "Number of advisors, end users and calls on the licensee's platform",
        ),
        # Part of the account for the agreement's duration (§7 "Active account").
        retention=ACCOUNT_RETENTION,
        policy_section="§2.3",
        # The sign-ins themselves (usage.AdminLogin) are access logs: 90 days, see below.
        stored_in=("usage.AdminActionCount", "billing.LicenseeUsage"),
    ),
    DataCategory(
        key="communication",
        name="Communication data",
        items=("Emails", "Support requests", "Onboarding call notes"),
        retention=CORRESPONDENCE_RETENTION,
        policy_section="§2.4",
        stored_in=("billing.SupportRequest", "billing.StaffNote"),
    ),
    DataCategory(
        key="technical",
        name="Technical data",
        items=(
            "IP address",
            "Browser type and version",
            "Operating system and device type",
            "Pages visited and time spent",
            "Referring URL",
        ),
        retention=TECHNICAL_RETENTION,
        policy_section="§2.5",
        # Sign-in attempts and access logs (django-axes: IP address, user agent, path), the
        # licensee admins' sign-ins, and sessions and refresh tokens; the same tables in each
        # licensee's schema are purged by the same rule (compliance.callrix.retention).
        stored_in=(
            "usage.AdminLogin",
            "axes.AccessAttempt",
            "axes.AccessFailureLog",
            "axes.AccessLog",
            "sessions.Session",
            "token_blacklist.OutstandingToken",
        ),
    ),
)

CONTRACT = ("Contract performance", "Art. 6(1)(b)")
LEGITIMATE_INTEREST = ("Legitimate interest", "Art. 6(1)(f)")
CONSENT = ("Consent", "Art. 6(1)(a)")
LEGAL_OBLIGATION = ("Legal obligation", "Art. 6(1)(c)")


def _purpose(key: str, name: str, basis: tuple[str, str], categories: tuple[str, ...]):
    return Purpose(
        key=key, name=name, legal_basis=basis[0], article=basis[1], categories=categories
    )


PURPOSES = (
    _purpose(
        "platform",
        "Providing the Platform and fulfilling the license agreement",
        CONTRACT,
        ("account", "usage", "communication", "technical"),
    ),
    _purpose("billing", "Processing payments and billing", CONTRACT, ("account", "payment")),
    _purpose(
        "security",
        "Security monitoring, fraud prevention, and abuse detection",
        LEGITIMATE_INTEREST,
        ("usage", "technical"),
    ),
    _purpose(
        "analytics",
        "Platform improvement and analytics",
        LEGITIMATE_INTEREST,
        ("usage", "technical"),
    ),
    _purpose("marketing", "Marketing communications", CONSENT, ("account",)),
    _purpose(
        "accounting",
        "Tax records and accounting obligations",
        LEGAL_OBLIGATION,
        ("account", "payment"),
    ),
)

EU_HOSTED = "None needed: processed in the EU (no transfer under GDPR Chapter V)"
SCCS = "EU Standard Contractual Clauses (GDPR Art. 46(2)(c))"

PROCESSORS = (
    Processor(
        key="hetzner",
        name="Hetzner Online GmbH",
        purpose="Server hosting and infrastructure",
        location="Germany (EU)",
        transfer_safeguard=EU_HOSTED,
    ),
    Processor(
        key="stripe",
        name="Stripe, Inc.",
        purpose="Payment processing and Stripe Connect payouts",
        location="USA",
        transfer_safeguard=SCCS,
        # Licensees' own Stripe accounts (end users' top-ups, advisors' payouts), and
        # Callrix's account billing licensees (docs/architecture.md §6).
        gateway_modules=(
            "tenant_apps.payments.stripe_gateway",
            "shared_apps.billing.stripe_gateway",
        ),
        sdk_packages=("stripe",),
    ),
    Processor(
        key="google_firebase",
        name="Google LLC (Firebase)",
        purpose="Push notifications via Firebase Cloud Messaging",
        location="USA",
        transfer_safeguard=SCCS,
        gateway_modules=("tenant_apps.notifications.fcm_gateway",),
        sdk_packages=("firebase_admin", "google"),
    ),
    Processor(
        key="livekit",
        name="LiveKit, Inc.",
        purpose="Real-time VoIP/WebRTC infrastructure",
        location="USA",
        transfer_safeguard=SCCS,
        gateway_modules=("tenant_apps.calls.livekit_gateway",),
        sdk_packages=("livekit",),
    ),
    Processor(
        key="matomo",
        name="Matomo (self-hosted)",
        purpose="Website analytics",
        location="Germany (EU), self-hosted on Hetzner",
        transfer_safeguard=EU_HOSTED,
    ),
)

REGISTER = ProcessingRegister(
    controller=CONTROLLER,
    contact=CONTROLLER_CONTACT,
    supervisory_authority=SUPERVISORY_AUTHORITY,
    categories=CATEGORIES,
    purposes=PURPOSES,
    retention=(
        ACCOUNT_RETENTION,
        FINANCIAL_RETENTION,
        CORRESPONDENCE_RETENTION,
        TECHNICAL_RETENTION,
    ),
    processors=PROCESSORS,
)
