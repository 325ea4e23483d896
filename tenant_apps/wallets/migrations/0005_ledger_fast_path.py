"""The ledger's fast path (docs/decisions/0015-ledger-fast-path.md): licensee-wide accounts'
balances in shards, and the whole posting as one function in the tenant schema, called by
`tenant_apps.wallets.services.ledger_post`."""

import django.db.models.deletion
from django.db import migrations, models

from tenant_apps.wallets.ledger_sql import LEDGER_POST_FAST, REMOVE_LEDGER_POST_FAST


class Migration(migrations.Migration):
    dependencies = [("wallets", "0004_promotion_credit_account")]

    operations = [
        migrations.CreateModel(
            name="LedgerAccountShard",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("shard", models.SmallIntegerField()),
                ("balance_minor", models.BigIntegerField(default=0)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="shards",
                        to="wallets.ledgeraccount",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "shard"), name="ledger_shard_one_per_slot"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("shard__gte", 0), ("shard__lt", 16)),
                        name="ledger_shard_in_range",
                    ),
                ],
            },
        ),
        migrations.RunSQL(LEDGER_POST_FAST, REMOVE_LEDGER_POST_FAST),
    ]
