# Role and Grant moved here from accounts: the tables stay (accounts_role, accounts_grant); only
# Django's idea of which app owns them changes, so nothing is copied.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Role",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("description", models.CharField(blank=True, max_length=300)),
                        ("permissions", models.JSONField(default=list)),
                        ("builtin", models.BooleanField(default=False)),
                    ],
                    options={"ordering": ["-builtin", "name"], "db_table": "accounts_role"},
                ),
                migrations.CreateModel(
                    name="Grant",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("scope_type", models.CharField(default="global", max_length=32)),
                        ("scope_id", models.BigIntegerField(blank=True, null=True)),
                        ("scope_name", models.CharField(blank=True, max_length=255)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "role",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="grants", to="authz.role"
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to="accounts.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_grant",
                        "indexes": [models.Index(fields=["scope_type", "scope_id"], name="accounts_gr_scope_t_cd0a74_idx")],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("team__isnull", True), ("user__isnull", False)),
                                    models.Q(("team__isnull", False), ("user__isnull", True)),
                                    _connector="OR",
                                ),
                                name="grant_one_principal",
                            ),
                            models.UniqueConstraint(
                                fields=("user", "team", "role", "scope_type", "scope_id"),
                                name="grant_unique",
                                nulls_distinct=False,
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
