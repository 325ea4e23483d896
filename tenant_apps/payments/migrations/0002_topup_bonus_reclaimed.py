from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="topup",
            name="bonus_reclaimed_minor",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="topup",
            constraint=models.CheckConstraint(
                condition=models.Q(("bonus_reclaimed_minor__lte", models.F("bonus_minor"))),
                name="topup_bonus_reclaim_within_bonus",
            ),
        ),
    ]
