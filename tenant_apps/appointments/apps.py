from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "tenant_apps.appointments"
    label = "appointments"
    verbose_name = "Appointments"
