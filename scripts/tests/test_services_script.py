"""scripts/servers (run by scripts/services.sh): PostgreSQL URLs with socket directories, and the app's own login."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.conf import settings

from evesite.testing.defaults import settings_defaults
from scripts.servers.main import DEFAULT_DATABASE_URL, service_address, service_reachable
from scripts.servers.postgres import pg_host, pg_is_local, pg_login_works


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("postgres://u:p@%2Fvar%2Frun%2Fpostgresql:5432/evesite", "/var/run/postgresql"),
        ("postgres://u:p@%2Ftmp%2FPgSockets/evesite", "/tmp/PgSockets"),  # noqa: S108 - a path, not a file
        ("postgres://u:p@127.0.0.1:5432/evesite", "127.0.0.1"),
        ("postgres://u:p@[::1]:5432/evesite", "::1"),
        ("postgres://u:p@db.example.org/evesite", "db.example.org"),
        ("postgres:///evesite", ""),
    ],
)
def test_pg_host_keeps_socket_paths(url: str, host: str) -> None:
    """Socket directories come back decoded and with their case; names and addresses as written."""
    assert pg_host(url) == host


def test_pg_is_local() -> None:
    """Loopback and socket directories are managed here; other hosts are left alone."""
    assert pg_is_local("/var/run/postgresql")
    assert pg_is_local("127.0.0.1")
    assert pg_is_local("")
    assert not pg_is_local("db.example.org")


def test_service_address_of_a_socket() -> None:
    """A socket directory listens on the socket file named after the port."""
    url = "postgres://u:p@%2Fvar%2Frun%2Fpostgresql:5433/evesite"
    assert service_address("postgres", url) == ("/var/run/postgresql/.s.PGSQL.5433", 0)
    assert service_address("redis", "redis://127.0.0.1:6379/0") == ("127.0.0.1", 6379)


def test_default_database_is_the_local_socket() -> None:
    """With no environment the app and the services script both use Debian's socket directory."""
    (databases,) = settings_defaults("DATABASES")
    assert databases["default"]["HOST"] == "/var/run/postgresql"
    assert pg_host(DEFAULT_DATABASE_URL) == "/var/run/postgresql"
    assert databases["default"]["PORT"] == 5432


def test_login_as_the_app_over_its_connection() -> None:
    """The readiness probe logs in with the app's credentials; a wrong password is refused."""
    db = settings.DATABASES["default"]
    host, port, user, password = str(db["HOST"]), int(db["PORT"] or 5432), str(db["USER"]), str(db["PASSWORD"])
    assert pg_login_works(host, port, user, password, str(db["NAME"]))
    assert not pg_login_works(host, port, user, password + "-wrong", str(db["NAME"]))
    assert service_reachable("postgres", f"postgres://{user}@{quote(host, safe='')}:{port}/x")
