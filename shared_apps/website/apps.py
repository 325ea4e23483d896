from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    """Callrix's public website: the plans on offer, sign-up pages, site analytics."""

    name = "shared_apps.website"
    label = "website"
    verbose_name = "Public website"
