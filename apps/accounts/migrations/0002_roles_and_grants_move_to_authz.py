# Role and Grant now belong to apps.authz (same tables); see authz/migrations/0001_initial.py.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("authz", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Grant"), migrations.DeleteModel(name="Role")],
            database_operations=[],
        ),
    ]
