from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "branding.outbox"
    label = "mail_outbox"
    verbose_name = "Outgoing mail"
