"""Keep the host cache honest: any change to a domain or licensee invalidates it, now and
again after the surrounding transaction commits (a request racing the commit could otherwise
re-cache the old row)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.models import Domain, Licensee
from tenants.routing import invalidate_hosts


@receiver([post_save, post_delete], sender=Domain)
@receiver([post_save, post_delete], sender=Licensee)
def routing_changed(sender, **kwargs) -> None:
    invalidate_hosts()
    transaction.on_commit(invalidate_hosts)
