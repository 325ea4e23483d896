"""Input parsing for the dashboard's forms. The rules themselves live in each app's services;
these only turn text into typed values and show a service's refusal at its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.errors import DomainError
from kernel.money import InvalidMoney, exponent, major_text, parse_major
from kernel.tenant_connection import connection
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call


def _currency() -> str:
    return getattr(connection.tenant, "currency", "EUR")


class MoneyField(forms.CharField):
    """An amount typed in the licensee's currency ("20", "20.50", "500" for yen), cleaned to
    minor units and shown back through `kernel.money`, the one conversion: an initial value in
    minor units is displayed with the currency's own digits, so a re-saved form keeps it."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return major_text(value, _currency())
        return value

    def clean(self, value: Any) -> int | None:
        text = (super().clean(value) or "").strip()
        if not text and not self.required:
            return None
        currency = _currency()
        digits = exponent(currency)
        example = major_text(20 * 10**digits, currency)
        try:
            minor = parse_major(text, currency)
        except InvalidMoney as error:
            if error.code != "amount_precision":
                raise forms.ValidationError(
                    _("Enter an amount such as %(example)s.") % {"example": example}
                ) from None
            if digits:
                raise forms.ValidationError(
                    _("Enter a positive amount with at most %(digits)s decimals.")
                    % {"digits": digits}
                ) from None
            raise forms.ValidationError(
                _("Enter a whole amount, such as %(example)s.") % {"example": example}
            ) from None
        if minor <= 0:
            raise forms.ValidationError(_("Enter a positive amount."))
        return minor


class DashboardForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels read "Amount", not "Amount:"
        super().__init__(*args, **kwargs)


def refusal_show(
    form: forms.Form, error: DomainError, *, fields: dict[str, str] | None = None
) -> None:
    """Put a service's refusal on the form field it names (`fields` maps the service's field
    names to the form's), or at the top of the form."""
    name = (fields or {}).get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, error.detail)


class InviteAdvisorForm(DashboardForm):
    email = forms.EmailField(label=_("E-mail"))
    display_name = forms.CharField(label=_("Name"), max_length=120)
    rate = MoneyField(label=_("Rate per minute"))


class AdvisorRateForm(DashboardForm):
    rate = MoneyField(label=_("Rate per minute"))


class SuspendForm(DashboardForm):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CreditForm(DashboardForm):
    amount = MoneyField(label=_("Amount"))
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RefundForm(DashboardForm):
    amount = MoneyField(label=_("Amount (empty: all that can be refunded)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PackageForm(DashboardForm):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    amount = MoneyField(label=_("Price"))
    bonus = MoneyField(label=_("Bonus credit"), required=False)


class PromotionForm(DashboardForm):
    code = forms.CharField(label=_("Code"), max_length=40)
    kind = forms.ChoiceField(
        label=_("Gives"),
        choices=[
            ("topup_percent", _("A percentage bonus on a top-up")),
            ("topup_fixed", _("A fixed bonus on a top-up")),
            ("first_session_seconds", _("Free seconds on a first session with an advisor")),
        ],
    )
    percent = forms.IntegerField(label=_("Bonus (%)"), min_value=1, max_value=100, required=False)
    amount = MoneyField(label=_("Bonus amount"), required=False)
    free_seconds = forms.IntegerField(
        label=_("Free seconds"), min_value=1, max_value=86_400, required=False
    )
    max_uses_per_user = forms.IntegerField(
        label=_("Uses per end user"), min_value=1, max_value=1_000_000, initial=1
    )
    max_uses_total = forms.IntegerField(
        label=_("Uses in total (empty: no limit)"),
        min_value=1,
        max_value=1_000_000_000,
        required=False,
    )
    ends_at = forms.DateTimeField(label=_("Valid until (empty: no end)"), required=False)


class PricingForm(DashboardForm):
    billing_mode = forms.ChoiceField(
        label=_("Billing"),
        choices=[("per_second", _("Per second")), ("per_minute", _("Per started minute"))],
    )
    intro_free_seconds = forms.IntegerField(label=_("Free intro seconds"), min_value=0)
    minimum_minutes = forms.IntegerField(label=_("Minimum minutes of credit to call"), min_value=1)
    grace_seconds = forms.IntegerField(label=_("Grace period to rejoin (seconds)"), min_value=0)
    min_rate = MoneyField(label=_("Lowest advisor rate per minute"))
    max_rate = MoneyField(label=_("Highest advisor rate per minute"))
    advisor_share_percent = forms.DecimalField(
        label=_("Advisor commission (% of each call)"), min_value=0, max_value=100, decimal_places=2
    )
    video_enabled = forms.BooleanField(label=_("Video sessions"), required=False)
    appointment_cancel_hours = forms.IntegerField(
        label=_("Bookings can be cancelled until (hours before)"),
        min_value=0,
        max_value=720,
        required=False,
    )


class BrandForm(DashboardForm):
    app_name = forms.CharField(label=_("App name"), max_length=60)
    primary_color = forms.CharField(
        label=_("Primary colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    accent_color = forms.CharField(
        label=_("Accent colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    support_email = forms.CharField(label=_("Support e-mail"), required=False, max_length=254)
    legal_entity_name = forms.CharField(label=_("Legal entity"), required=False, max_length=200)
    legal_address = forms.CharField(
        label=_("Legal address"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    privacy_policy_url = forms.CharField(
        label=_("Privacy policy URL"), required=False, max_length=500
    )
    terms_url = forms.CharField(label=_("Terms URL"), required=False, max_length=500)
    default_language = forms.ChoiceField(
        label=_("Default language"), choices=[("en", "English"), ("de", "Deutsch")]
    )
    currency_display = forms.ChoiceField(
        label=_("Show amounts as"), choices=[("symbol", "€12.50"), ("code", "12.50 EUR")]
    )
    # Dates, times and numbers follow the region's customs on the licensee's own clock.
    region = forms.CharField(
        label=_("Region"),
        required=False,
        max_length=2,
        help_text=_("Two-letter country code, e.g. GB: dates read 06/12/2026 there."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, help_text=_("For example Europe/London.")
    )


class BrandImageForm(DashboardForm):
    kind = forms.ChoiceField(
        label=_("Image"),
        choices=[("logo", _("Logo")), ("icon", _("App icon")), ("favicon", _("Favicon"))],
    )
    image = forms.FileField(label=_("File"))


class StripeForm(DashboardForm):
    secret_key = forms.CharField(label=_("Secret key"), widget=forms.PasswordInput)
    publishable_key = forms.CharField(label=_("Publishable key"))
    webhook_secret = forms.CharField(label=_("Webhook signing secret"), widget=forms.PasswordInput)
    connect_webhook_secret = forms.CharField(
        label=_("Connect webhook signing secret"),
        widget=forms.PasswordInput,
        required=False,
        help_text=_("Leave empty to keep the one you gave before."),
    )


class FirebaseForm(DashboardForm):
    credentials_json = forms.CharField(
        label=_("Service account key (JSON)"), widget=forms.Textarea(attrs={"rows": 6})
    )


class DomainForm(DashboardForm):
    domain = forms.CharField(label=_("Domain"), max_length=253)


class MailSenderForm(DashboardForm):
    sender_email = forms.EmailField(
        label=_("Sender address"),
        required=False,
        help_text=_("Empty: the no-reply address of your platform's host."),
    )
    smtp_host = forms.CharField(
        label=_("SMTP server"),
        required=False,
        max_length=255,
        help_text=_("Optional: your own mail server. Empty: the platform's."),
    )
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65_535)
    smtp_username = forms.CharField(label=_("SMTP user name"), required=False, max_length=255)
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput,
        help_text=_("Leave empty to keep the one you gave before."),
    )
    smtp_use_tls = forms.BooleanField(label=_("Use STARTTLS"), required=False)

    def clean_smtp_password(self) -> str | None:
        return self.cleaned_data.get("smtp_password") or None  # None keeps the stored one


class TeamInviteForm(DashboardForm):
    email = forms.EmailField(label=_("E-mail"))
    display_name = forms.CharField(label=_("Name"), max_length=120)


class CallFilterForm(DashboardForm):
    # The statuses in the reader's language (the model's labels are English).
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any")),
            (Call.Status.RINGING, _("Ringing")),
            (Call.Status.CONNECTED, _("Connected")),
            (Call.Status.COMPLETED, _("Completed")),
            (Call.Status.MISSED, _("Missed")),
            (Call.Status.DECLINED, _("Declined")),
            (Call.Status.CANCELLED, _("Cancelled")),
        ],
    )
    advisor = forms.ModelChoiceField(
        label=_("Advisor"),
        required=False,
        queryset=Advisor.objects.order_by("display_name"),
        empty_label=_("Any"),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end is before the start."))
        return data


class ApplicationRejectForm(DashboardForm):
    note = forms.CharField(label=_("Note (kept with the decision)"), required=False, max_length=500)


class CommissionForm(DashboardForm):
    """An advisor's own commission: a fixed percentage, or tiers written as
    "minutes:percent" pairs ("0:50, 600:60" = 60 % from 600 minutes this month)."""

    fixed_percent = forms.DecimalField(
        label=_("Fixed commission (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    tiers = forms.CharField(
        label=_("Or tiers by talk minutes this month (minutes:percent, …)"),
        required=False,
        max_length=400,
    )

    def clean_tiers(self) -> list[tuple[int, int]]:
        text = (self.cleaned_data.get("tiers") or "").strip()
        tiers = []
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            minutes, _sep, percent = part.partition(":")
            try:
                tiers.append((int(minutes), round(float(percent) * 100)))
            except ValueError:
                raise forms.ValidationError(
                    _("Write each tier as minutes:percent, e.g. 600:60.")
                ) from None
        return tiers
