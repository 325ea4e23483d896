"""Forms of the end-user web app: the directory filters and registration."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

STATUS_CHOICES = [
    ("", _("Any")),
    ("online", _("Online")),
    ("busy", _("In a call")),
    ("offline", _("Offline")),
]
SORT_CHOICES = [
    ("rating", _("Best rated")),
    ("price", _("Lowest price")),
    ("-price", _("Highest price")),
    ("name", _("Name")),
]


class DirectoryFilterForm(forms.Form):
    category = forms.CharField(required=False, max_length=40, label=_("Topic"))
    language = forms.CharField(required=False, max_length=8, label=_("Language"))
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label=_("Availability"))
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label=_("Sort by"))


class RegisterForm(forms.Form):
    display_name = forms.CharField(max_length=120, label=_("Your name"))
    email = forms.EmailField(max_length=254, label=_("E-mail"))
    password = forms.CharField(
        max_length=128, label=_("Password"), widget=forms.PasswordInput(render_value=False)
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    marketing_consent = forms.BooleanField(
        required=False, label=_("Send me offers and news by e-mail")
    )


def _list(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class AdvisorApplicationForm(forms.Form):
    """Applying to advise: the profile the directory would show, and the rate per minute."""

    email = forms.EmailField(label=_("E-mail"))
    display_name = forms.CharField(label=_("Name shown to callers"), max_length=120)
    headline = forms.CharField(label=_("Headline"), max_length=200, required=False)
    bio = forms.CharField(
        label=_("About you"), max_length=5_000, required=False, widget=forms.Textarea
    )
    categories = forms.CharField(
        label=_("Categories (comma-separated)"), max_length=400, required=False
    )
    languages = forms.CharField(
        label=_("Languages (comma-separated codes, e.g. en, de)"), max_length=100, required=False
    )
    rate = forms.CharField(label=_("Your rate per minute"), max_length=20)

    def clean_categories(self) -> list[str]:
        return _list(self.cleaned_data.get("categories", ""))

    def clean_languages(self) -> list[str]:
        return _list(self.cleaned_data.get("languages", ""))
