#!/usr/bin/env python3
"""Start, stop and check the local PostgreSQL, Redis and Neo4j services.

Runs on a Debian machine without Docker. PostgreSQL and Redis come from
Debian's packages; Neo4j Community and APOC come from Maven Central through
the pinned poms in ``scripts/neo4j/``. A service whose URL points at another
host is left alone. Every step is idempotent.

Usage: ``python3 scripts/services.py up|down|status``, or ``apt PACKAGE...`` to install Debian packages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("SERVICES_DIR", ROOT / ".services")).resolve()
NEO4J_POMS = ROOT / "scripts" / "neo4j"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}

# Debian's socket directory: a local socket costs PostgreSQL and the app about half the CPU of TCP loopback.
DEFAULT_DATABASE_URL = "postgres://evesite:evesite@%2Fvar%2Frun%2Fpostgresql:5432/evesite"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_NEO4J_BOLT_URL = "bolt://neo4j:password@127.0.0.1:7687"

# JVM flags taken from Neo4j's own conf (server.jvm.additional).
NEO4J_JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
]


def log(message: str) -> None:
    """Print one progress line.

    Args:
        message: The text to print.
    """
    print(f"[services] {message}", flush=True)


def run(cmd: list[str], *, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a command, optionally with root rights through sudo.

    Args:
        cmd: The command and its arguments.
        check: Raise on a non-zero exit.
        quiet: Capture output instead of showing it.

    Returns:
        The finished process.
    """
    return subprocess.run(cmd, check=check, text=True, capture_output=quiet)


def as_root(cmd: list[str]) -> list[str]:
    """Prefix a command with sudo when not already root.

    Args:
        cmd: The command.

    Returns:
        The command to run.
    """
    return cmd if os.geteuid() == 0 else ["sudo", *cmd]


def port_open(host: str, port: int) -> bool:
    """Tell whether something accepts TCP connections on host:port.

    Args:
        host: Host name or address.
        port: TCP port.

    Returns:
        True when a connection succeeds.
    """
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(what: str, probe: object, timeout: float = 120.0) -> None:
    """Poll ``probe`` until it returns True or the timeout passes.

    Args:
        what: Name used in messages.
        probe: A callable returning bool.
        timeout: Seconds to wait at most.

    Raises:
        SystemExit: When the service never answers.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():  # type: ignore[operator]
                return
        except Exception:  # noqa: BLE001, S110 - any failure means "not ready yet"
            pass
        time.sleep(0.5)
    sys.exit(f"[services] {what} did not answer within {timeout:.0f} s")


_apt_updated = False


def apt_install(*packages: str) -> None:
    """Install Debian packages that are missing.

    Args:
        packages: Package names.
    """
    global _apt_updated
    missing = [
        p
        for p in packages
        if run(["dpkg-query", "-W", "-f=${Status}", p], check=False, quiet=True).stdout.find("install ok installed") < 0
    ]
    if not missing:
        return
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    if not _apt_updated:
        run(as_root(["apt-get", "update", "-qq"]))
        _apt_updated = True
    log(f"installing {' '.join(missing)} from Debian's packages")
    run(as_root([*env_cmd, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]), quiet=True)


# --------------------------------------------------------------------------- PostgreSQL


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
    text = f"# Added by evesite's scripts/services.py: the app connects over this socket.\n{rule}\n{current}"
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
        if len(parts) >= 4 and parts[2] == str(port):
            return parts[0], parts[1], parts[3]
    return None


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


# --------------------------------------------------------------------------- Redis


def redis_ping(host: str, port: int) -> bool:
    """Send PING over a raw socket.

    Args:
        host: Host.
        port: Port.

    Returns:
        True on +PONG.
    """
    with socket.create_connection((host, port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def redis_up(url: str) -> None:
    """Install and start a Redis server for ``url`` on loopback.

    Args:
        url: The REDIS_URL.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if host not in LOCAL_HOSTS:
        log(f"redis: {host} is not local, left alone")
        return
    host = "127.0.0.1" if host in ("", "localhost") else host
    if port_open(host, port):
        wait_for("redis", lambda: redis_ping(host, port))
        log(f"redis: already answering on {host}:{port}")
        return
    apt_install("redis-server")
    data = STATE_DIR / f"redis-{port}"
    data.mkdir(parents=True, exist_ok=True)
    run(
        [
            "redis-server",
            "--bind",
            host,
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--dir",
            str(data),
            "--pidfile",
            str(data / "redis.pid"),
            "--logfile",
            str(data / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
    )
    wait_for("redis", lambda: redis_ping(host, port))
    log(f"redis: ready on {host}:{port}")


def redis_down(url: str) -> None:
    """Stop the Redis server this script started for ``url``.

    Args:
        url: The REDIS_URL.
    """
    parts = urlsplit(url)
    pidfile = STATE_DIR / f"redis-{parts.port or 6379}" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            log("redis: stopped")
        except (ProcessLookupError, ValueError):
            pass


# --------------------------------------------------------------------------- Neo4j


def neo4j_home(port: int) -> Path:
    """Folder of the Neo4j instance serving Bolt on ``port``.

    Args:
        port: Bolt port.

    Returns:
        The instance's home folder.
    """
    return STATE_DIR / f"neo4j-{port}"


def neo4j_fetch_jars() -> Path:
    """Fetch the pinned Neo4j and APOC jars with Maven, once.

    Returns:
        The folder holding ``lib/`` and ``plugins/``.
    """
    jars = STATE_DIR / "neo4j-jars"
    stamp = jars / ".complete"
    pom_stamp = (NEO4J_POMS / "pom.xml").read_text() + (NEO4J_POMS / "apoc-pom.xml").read_text()
    if stamp.exists() and stamp.read_text() == pom_stamp:
        return jars
    if shutil.which("mvn") is None or shutil.which("java") is None:
        apt_install("maven", "openjdk-17-jre-headless")
    log("neo4j: fetching Neo4j Community and APOC jars with Maven")
    shutil.rmtree(jars, ignore_errors=True)
    mvn = ["mvn", "-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime"]
    run([*mvn, "-f", str(NEO4J_POMS / "pom.xml"), f"-DoutputDirectory={jars / 'lib'}"])
    run([*mvn, "-f", str(NEO4J_POMS / "apoc-pom.xml"), f"-DoutputDirectory={jars / 'plugins'}"])
    server_jars = {p.name.rsplit("-", 1)[0] for p in (jars / "lib").glob("*.jar")}
    for plugin in (jars / "plugins").glob("*.jar"):
        if plugin.name.rsplit("-", 1)[0] in server_jars:
            plugin.unlink()  # the server's own copy wins
    stamp.write_text(pom_stamp)
    return jars


def neo4j_ready(host: str, port: int, user: str, password: str) -> bool:
    """Tell whether Neo4j answers ``RETURN apoc.version()``.

    Args:
        host: Bolt host.
        port: Bolt port.
        user: User name.
        password: Password.

    Returns:
        True once APOC answers.
    """
    if not port_open(host, port):
        return False
    try:
        from neo4j import GraphDatabase
    except ImportError:  # no virtualenv yet: the open port must do
        return True
    with GraphDatabase.driver(f"bolt://{host}:{port}", auth=(user, password)) as driver:
        records, _, _ = driver.execute_query("RETURN apoc.version() AS v")
        return bool(records[0]["v"])


def neo4j_up(url: str) -> None:
    """Fetch, configure and start Neo4j with APOC for ``url``.

    Args:
        url: The NEO4J_BOLT_URL.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 7687
    if host not in LOCAL_HOSTS:
        log(f"neo4j: {host} is not local, left alone")
        return
    host = "127.0.0.1" if host in ("", "localhost") else host
    user, password = unquote(parts.username or "neo4j"), unquote(parts.password or "password")
    if port_open(host, port):
        wait_for("neo4j", lambda: neo4j_ready(host, port, user, password))
        log(f"neo4j: already answering on {host}:{port}")
        return
    jars = neo4j_fetch_jars()
    home = neo4j_home(port)
    for sub in ("conf", "data", "logs", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    heap = os.environ.get("NEO4J_HEAP", "1g")
    (home / "conf" / "neo4j.conf").write_text(
        "\n".join(
            [
                f"server.directories.data={home / 'data'}",
                f"server.directories.logs={home / 'logs'}",
                f"server.directories.run={home / 'run'}",
                f"server.directories.plugins={jars / 'plugins'}",
                f"server.default_listen_address={host}",
                f"server.bolt.listen_address={host}:{port}",
                "server.bolt.enabled=true",
                "server.http.enabled=false",
                "server.https.enabled=false",
                "dbms.usage_report.enabled=false",
                "dbms.security.procedures.unrestricted=apoc.*",
                f"server.memory.heap.initial_size={heap}",
                f"server.memory.heap.max_size={heap}",
                f"server.memory.pagecache.size={os.environ.get('NEO4J_PAGECACHE', '512m')}",
                "db.tx_log.rotation.retention_policy=1 files",
                "",
            ]
        )
    )
    classpath = f"{jars / 'plugins'}/*:{jars / 'lib'}/*"
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    java = ["java", *NEO4J_JVM_FLAGS, "-cp", classpath]
    if not (home / "data" / "dbms" / "auth.ini").exists():
        subprocess.run(
            [*java, "org.neo4j.server.startup.Neo4jAdminCommand", "dbms", "set-initial-password", password],
            env=env,
            check=True,
            capture_output=True,
        )
    log(f"neo4j: starting on {host}:{port}")
    with open(home / "logs" / "console.log", "ab") as console:
        proc = subprocess.Popen(
            [
                *java[:1],
                f"-Xms{heap}",
                f"-Xmx{heap}",
                *java[1:],
                "org.neo4j.server.CommunityEntryPoint",
                f"--home-dir={home}",
                f"--config-dir={home / 'conf'}",
            ],
            env=env,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (home / "neo4j.pid").write_text(str(proc.pid))

    def ready() -> bool:
        if proc.poll() is not None:
            sys.exit(f"[services] neo4j exited with {proc.returncode}; see {home / 'logs' / 'neo4j.log'}")
        return neo4j_ready(host, port, user, password)

    wait_for("neo4j", ready, timeout=180)
    log(f"neo4j: ready on {host}:{port} with APOC")


def neo4j_down(url: str) -> None:
    """Stop the Neo4j instance this script started for ``url``.

    Args:
        url: The NEO4J_BOLT_URL.
    """
    port = urlsplit(url).port or 7687
    pidfile = neo4j_home(port) / "neo4j.pid"
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(60):
            os.kill(pid, 0)
            time.sleep(0.5)
    except (ProcessLookupError, ValueError):
        pass
    pidfile.unlink(missing_ok=True)
    log("neo4j: stopped")


def service_address(name: str, url: str) -> tuple[str, int]:
    """Where a service listens: a host and port, or a socket path and 0.

    Args:
        name: ``postgres``, ``redis`` or ``neo4j``.
        url: Its URL.

    Returns:
        (host, port), or (socket path, 0) for a PostgreSQL socket directory.
    """
    parts = urlsplit(url)
    host = pg_host(url) if name == "postgres" else parts.hostname or "127.0.0.1"
    if host.startswith("/"):
        return f"{host}/.s.PGSQL.{parts.port or 5432}", 0
    return host or "127.0.0.1", parts.port or 0


def service_reachable(name: str, url: str) -> bool:
    """Tell whether something accepts connections where a service should listen.

    Args:
        name: ``postgres``, ``redis`` or ``neo4j``.
        url: Its URL.

    Returns:
        True when a connection succeeds.
    """
    host, port = service_address(name, url)
    if port:
        return port_open(host, port)
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(host)
            return True
    except OSError:
        return False


def main() -> None:
    """Parse the command line and act on every service (or install Debian packages with ``apt``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "apt"])
    parser.add_argument("packages", nargs="*", help="with apt: Debian packages to install when missing")
    parser.add_argument("--only", choices=["postgres", "redis", "neo4j"], action="append")
    args = parser.parse_args()
    if args.action == "apt":
        apt_install(*args.packages)
        return
    urls = {
        "postgres": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "redis": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        "neo4j": os.environ.get("NEO4J_BOLT_URL", DEFAULT_NEO4J_BOLT_URL),
    }
    chosen = args.only or ["postgres", "redis", "neo4j"]
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.action == "up":
        actions = {"postgres": postgres_up, "redis": redis_up, "neo4j": neo4j_up}
        for name in chosen:
            actions[name](urls[name])
        log(f"all up in {time.monotonic() - started:.1f} s")
    elif args.action == "down":
        for name, stop in (("neo4j", neo4j_down), ("redis", redis_down), ("postgres", postgres_down)):
            if name in chosen:
                stop(urls[name])
    else:
        for name in chosen:
            host, port = service_address(name, urls[name])
            state = "up" if service_reachable(name, urls[name]) else "down"
            print(f"{name}: {state} ({host}:{port})" if port else f"{name}: {state} ({host})")


if __name__ == "__main__":
    main()
