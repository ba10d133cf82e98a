"""PostgreSQL from Debian's packages: a cluster on the URL's port, the app's role and database, socket logins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scripts.servers.common import LOCAL_HOSTS, apt_install, as_root, log, run, wait_for

# The column of pg_lsclusters' output that holds a cluster's status (version, name, port, status, ...).
_STATUS = 3


def pg_host(url: str) -> str:
    """Read the host of a PostgreSQL URL: a name, an address, or a percent-encoded socket directory.

    ``urlsplit().hostname`` lowercases, which would change a socket path; this keeps it.

    Args:
        url: The DATABASE_URL.

    Returns:
        The host (``/var/run/postgresql`` for ``%2Fvar%2Frun%2Fpostgresql``), or "" when there is none.
    """
    hostport = urlsplit(url).netloc.rpartition("@")[2]
    if hostport.startswith("["):
        return hostport[1 : hostport.find("]")]
    return unquote(hostport.partition(":")[0])


def pg_is_local(host: str) -> bool:
    """Tell whether a PostgreSQL host is this machine: loopback, or a socket directory.

    Args:
        host: From :func:`pg_host`.

    Returns:
        True when this script manages the server.
    """
    return host in LOCAL_HOSTS or host.startswith("/")


def pg_hba_allow_socket_password(port: int, user: str) -> None:
    """Let ``user`` log in with its password over the local socket (Debian allows only peer logins there).

    Adds one ``local all "user" scram-sha-256`` rule at the top of the cluster's ``pg_hba.conf`` (rules
    match first to last) and reloads; a file that already has it is left alone.

    Args:
        port: Cluster port.
        user: The application's role.
    """
    rule = f'local   all   "{user}"   scram-sha-256'
    hba = Path(psql_as_postgres(port, "SHOW hba_file"))
    current = run(as_root(["cat", str(hba)]), quiet=True).stdout
    if rule in current.splitlines():
        return
    log(f"postgres: allowing password logins of {user} over the local socket in {hba}")
    text = f"# Added by evesite's scripts/services.sh: the app connects over this socket.\n{rule}\n{current}"
    subprocess.run(as_root(["tee", str(hba)]), input=text, text=True, check=True, stdout=subprocess.DEVNULL)
    psql_as_postgres(port, "SELECT pg_reload_conf()")


def pg_login_works(host: str, port: int, user: str, password: str, dbname: str) -> bool:
    """Log in as the application does (its role and password, over its socket or TCP).

    Args:
        host: Host or socket directory.
        port: Port.
        user: Role.
        password: Password.
        dbname: Database.

    Returns:
        True when ``SELECT 1`` answers.
    """
    env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "3"}
    cmd = ["psql", "-h", host or "127.0.0.1", "-p", str(port), "-U", user, "-d", dbname, "-tAc", "SELECT 1"]
    done = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    return done.returncode == 0 and done.stdout.strip() == "1"


def pg_cluster_for_port(port: int) -> tuple[str, str, str] | None:
    """Find the Debian PostgreSQL cluster configured for a port.

    Args:
        port: TCP port.

    Returns:
        (version, name, status) or None.
    """
    out = run(["pg_lsclusters", "--no-header"], check=False, quiet=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > _STATUS and parts[2] == str(port):
            return parts[0], parts[1], parts[_STATUS]
    return None


MAX_CONNECTIONS = 300


def psql_as_postgres(port: int, sql: str) -> str:
    """Run SQL as the postgres superuser over the local socket.

    Args:
        port: Cluster port.
        sql: The statement.

    Returns:
        psql's output.
    """
    cmd = ["runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-tAc", sql]
    return run(as_root(cmd), quiet=True).stdout.strip()


def postgres_up(url: str) -> None:
    """Install and start PostgreSQL, then create the role and database of ``url``.

    Args:
        url: The DATABASE_URL.
    """
    parts = urlsplit(url)
    host, port = pg_host(url), parts.port or 5432
    if not pg_is_local(host):
        log(f"postgres: {host} is not local, left alone")
        return
    user = unquote(parts.username or "evesite")
    password = unquote(parts.password or "")
    dbname = parts.path.lstrip("/") or "evesite"
    apt_install("postgresql", "postgresql-contrib")
    cluster = pg_cluster_for_port(port)
    if cluster is None:
        version = sorted(p.name for p in Path("/usr/lib/postgresql").iterdir())[-1]
        log(f"postgres: creating cluster {version}/evesite on port {port}")
        run(as_root(["pg_createcluster", version, "evesite", "-p", str(port)]), quiet=True)
        cluster = pg_cluster_for_port(port)
        if cluster is None:
            sys.exit(f"[services] pg_createcluster made no cluster on port {port}")
    version, name, status = cluster
    if status != "online":
        log(f"postgres: starting cluster {version}/{name} on port {port}")
        run(as_root(["pg_ctlcluster", version, name, "start"]))
    wait_for("postgres", lambda: psql_as_postgres(port, "SELECT 1") == "1")
    if int(psql_as_postgres(port, "SHOW max_connections")) < MAX_CONNECTIONS:
        # The suite's live servers open a connection per request thread (50 at once) on each xdist worker.
        log(f"postgres: raising max_connections to {MAX_CONNECTIONS} (restart)")
        psql_as_postgres(port, f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
        run(as_root(["pg_ctlcluster", version, name, "restart"]))
        wait_for("postgres", lambda: psql_as_postgres(port, "SELECT 1") == "1")
    quoted_pw = password.replace("'", "''")
    if psql_as_postgres(port, f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") != "1":
        psql_as_postgres(port, f"CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{quoted_pw}'")
    else:
        psql_as_postgres(port, f"ALTER ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{quoted_pw}'")
    if psql_as_postgres(port, f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'") != "1":
        psql_as_postgres(port, f'CREATE DATABASE "{dbname}" OWNER "{user}"')
    if host.startswith("/"):
        pg_hba_allow_socket_password(port, user)
    wait_for("postgres login", lambda: pg_login_works(host, port, user, password, dbname), timeout=20)
    log(f"postgres: ready on {host or '127.0.0.1'}:{port}, database {dbname}")


def postgres_down(url: str) -> None:
    """Stop the local cluster that serves ``url``.

    Args:
        url: The DATABASE_URL.
    """
    if not pg_is_local(pg_host(url)):
        return
    cluster = pg_cluster_for_port(urlsplit(url).port or 5432)
    if cluster and cluster[2] == "online":
        run(as_root(["pg_ctlcluster", cluster[0], cluster[1], "stop"]), check=False)
        log("postgres: stopped")
