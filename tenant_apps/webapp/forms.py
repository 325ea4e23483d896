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
