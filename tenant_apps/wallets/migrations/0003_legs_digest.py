from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0002_ledger_guards"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgertransaction",
            name="legs_digest",
            field=models.CharField(blank=True, default="", db_default="", max_length=64),
        ),
    ]
