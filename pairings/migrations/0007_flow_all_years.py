from decimal import Decimal
from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def install(apps: Any, schema_editor: Any) -> None:
    """The triggers that keep the flows' all-years totals exact, then the totals of the rows already there."""
    from pairings.rollups import FLOW_ALL_YEARS

    FLOW_ALL_YEARS.install(schema_editor)
    FLOW_ALL_YEARS.rebuild()


def uninstall(apps: Any, schema_editor: Any) -> None:
    from pairings.rollups import FLOW_ALL_YEARS

    FLOW_ALL_YEARS.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("pairings", "0006_flow_latest_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlowTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=16)),
                ("amount", models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=18)),
                ("flows", models.IntegerField(default=0)),
                (
                    "pairing",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="pairings.pairing",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("pairing", "kind"), name="flow_total_key")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
