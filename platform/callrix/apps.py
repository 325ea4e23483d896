from django.apps import AppConfig


class CallrixConfig(AppConfig):
    """The composition root as an app only for its commands (`callrix worker`,
    `callrix scheduler`) and the staff admin's assembly."""

    name = "callrix"
    verbose_name = "Callrix"
