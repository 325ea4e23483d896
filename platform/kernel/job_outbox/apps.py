from django.apps import AppConfig


class JobOutboxConfig(AppConfig):
    name = "kernel.job_outbox"
    label = "job_outbox"
    verbose_name = "Jobs waiting for the queue"
