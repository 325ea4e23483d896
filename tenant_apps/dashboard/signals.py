"""Sent once an admin action is committed; `tenants.usage` turns it into an anonymous count
in the public schema (Callrix's usage data, privacy policy §2.3)."""

from django.dispatch import Signal

# kwargs: licensee_id (int), action (str)
admin_action_committed = Signal()
