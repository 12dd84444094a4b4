"""What the page benches share: a PostgreSQL database of their own, created and migrated, and a
Django set up to fetch pages through the test client while counting queries."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvmweb.settings")
os.environ.setdefault("KVMWEB_DEBUG", "1")


def ensure_database(url):
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup():
    """Create and migrate KVMWEB_DATABASE_URL's database (PostgreSQL only) and set Django up so
    responses carry their context and connection.queries counts. Returns the settings."""
    url = os.environ.get("KVMWEB_DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("KVMWEB_DATABASE_URL must name a PostgreSQL database for the bench")
    ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = True  # to count queries
    setup_test_environment()  # so responses carry their context
    return settings
