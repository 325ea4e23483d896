"""The staff admin's view of licensee billing (public host only). Plans and communication
records are edited here; what Stripe and the jobs write is read-only. Every change staff make
is in Django's LogEntry, shown as the staff audit log."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from kernel import money
from shared_apps.billing import services
from shared_apps.billing.models import (
    BillingEvent,
    Invoice,
    LedgerAlert,
    LicenseeTerms,
    LicenseeUsage,
    OverageReport,
    Plan,
    RevenueShareReport,
    StaffNote,
    Subscription,
    SupportRequest,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by Stripe's events and our jobs: staff look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "monthly_fee_minor",
        "currency",
        "included_advisors",
        "included_minutes",
        "revenue_share_bps",
        "overage_minor_per_minute",
        "trial_days",
        "active",
    )
    list_filter = ("active", "currency")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # A plan's code names its Stripe prices; retire a plan and add another instead.
        return ("code", "created_at") if obj else ("created_at",)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.subscriptions.exists()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        terms = {
            "revenue_share_bps",
            "included_advisors",
            "included_minutes",
            "overage_minor_per_minute",
        }
        if change and terms & set(form.changed_data):
            # Effective from now for every licensee on the plan; started calls keep theirs.
            moved = services.plan_terms_changed(plan=obj, changed_by_id=request.user.pk)
            self.message_user(request, f"New terms apply from now to {len(moved)} licensee(s).")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("slug", "company", "plan", "status", "licensee", "past_due_since", "created_at")
    list_filter = ("status", "plan")
    search_fields = ("slug", "company", "stripe_subscription_id", "stripe_customer_id")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "licensee",
        "status",
        "total_minor",
        "tax_minor",
        "currency",
        "overage",
        "issued_at",
        "paid_at",
        "retain_until",
    )
    list_filter = ("status", "currency")
    search_fields = ("number", "stripe_invoice_id", "subscription__slug")
    date_hierarchy = "issued_at"
    readonly_fields = ("invoice_lines",)
    exclude = ("lines",)  # shown as a table by `invoice_lines`

    @admin.display(description="minutes past the included ones")
    def overage(self, invoice: Invoice) -> str:
        amount = sum(line.get("amount_minor", 0) for line in invoice.lines if line.get("overage"))
        return money.format_minor(amount, invoice.currency, code=True) if amount else "–"

    @admin.display(description="lines")
    def invoice_lines(self, invoice: Invoice) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}{}</td><td>{}</td></tr>",
            (
                (
                    "Talk minutes past the included ones: " if line.get("overage") else "",
                    line.get("description", ""),
                    money.format_minor(int(line.get("amount_minor", 0)), invoice.currency),
                )
                for line in invoice.lines
            ),
        )
        return format_html("<table>{}</table>", rows)


@admin.register(BillingEvent)
class BillingEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "received_at", "processed_at", "outcome")
    list_filter = ("type",)
    search_fields = ("event_id",)


@admin.register(RevenueShareReport)
class RevenueShareReportAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "period_start", "amount_minor", "currency", "reported_at")
    list_filter = ("period_start",)


@admin.register(OverageReport)
class OverageReportAdmin(ReadOnlyAdmin):
    list_display = (
        "subscription",
        "day",
        "used_minutes",
        "included_minutes",
        "minutes",
        "reported_at",
        "refused_at",
        "attempts",
        "last_error",
    )
    list_filter = ("period_start",)
    date_hierarchy = "day"


@admin.register(LicenseeUsage)
class LicenseeUsageAdmin(ReadOnlyAdmin):
    list_display = ("licensee", "date", "advisors", "end_users", "calls", "talk_minutes")
    list_filter = ("licensee",)
    date_hierarchy = "date"


class StaffNoteInline(admin.StackedInline):
    model = StaffNote
    extra = 0
    fields = ("kind", "body", "author", "created_at")
    readonly_fields = ("author", "created_at")


def _touch(obj) -> None:
    # Each save by staff is an interaction: the 2-year retention runs from the last one.
    obj.last_interaction_at = timezone.now()


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    list_display = ("subject", "licensee", "contact_email", "status", "last_interaction_at")
    list_filter = ("status", "channel")
    search_fields = ("subject", "contact_email", "licensee__slug")
    readonly_fields = ("created_at", "last_interaction_at")
    inlines = [StaffNoteInline]

    def save_model(self, request, obj, form, change):
        _touch(obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for note in formset.save(commit=False):
            if note.author_id is None:
                note.author = request.user
            note.licensee_id = note.licensee_id or form.instance.licensee_id
            _touch(note)
            note.save()
        for note in formset.deleted_objects:
            note.delete()


@admin.register(StaffNote)
class StaffNoteAdmin(admin.ModelAdmin):
    list_display = ("licensee", "kind", "author", "created_at", "last_interaction_at")
    list_filter = ("kind",)
    search_fields = ("licensee__slug", "body")
    readonly_fields = ("author", "created_at", "last_interaction_at")

    def save_model(self, request, obj, form, change):
        if obj.author_id is None:
            obj.author = request.user
        _touch(obj)
        super().save_model(request, obj, form, change)


@admin.register(LogEntry)
class StaffAuditLogAdmin(ReadOnlyAdmin):
    """Django's record of every change made in this admin, by whom and when."""

    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "change_message", "user__email")
    date_hierarchy = "action_time"


@admin.register(LicenseeTerms)
class LicenseeTermsAdmin(ReadOnlyAdmin):
    """The effective-dated terms history: added by sign-up, plan changes and plan edits."""

    list_display = (
        "licensee",
        "plan",
        "revenue_share_bps",
        "included_advisors",
        "included_minutes",
        "effective_from",
        "reason",
        "changed_by_id",
    )
    list_filter = ("reason", "plan")
    search_fields = ("licensee__slug",)


@admin.action(description="Mark resolved (the licensee's payouts resume)")
def ledger_alert_resolve(modeladmin, request, queryset):
    for alert in queryset.filter(resolved_at__isnull=True):
        services.ledger_alert_resolve(
            alert_id=alert.pk, staff_id=request.user.pk, resolution="Resolved in the admin."
        )
        modeladmin.log_change(request, alert, "Resolved by staff; payouts resume.")


@admin.register(LedgerAlert)
class LedgerAlertAdmin(ReadOnlyAdmin):
    """Breaches the nightly `callrix ledger verify` found; open ones pause payouts."""

    list_display = ("licensee", "found_at", "last_seen_at", "resolved_at", "resolved_by_id")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("licensee", "breaches", "found_at", "last_seen_at", "resolved_at")
    actions = [ledger_alert_resolve]
