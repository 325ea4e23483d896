from django.apps import AppConfig


class LicensingConfig(AppConfig):
    """Callrix's licences: sign-up, provisioning once paid, standing with Callrix's billing
    (dunning), what staff do to a licensee, and the notices its owner receives."""

    name = "shared_apps.licensing"
    label = "licensing"
    verbose_name = "Licences"
