"""Neo4j Community with APOC, from the pinned Maven poms in ``scripts/neo4j/``, run straight on the JVM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scripts.servers.common import ROOT, STATE_DIR, apt_install, log, loopback_address, port_open, run, wait_for

NEO4J_POMS = ROOT / "scripts" / "neo4j"

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
        from neo4j import GraphDatabase  # noqa: PLC0415 (optional: services start before the virtualenv exists)
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
    address = loopback_address("neo4j", url, 7687)
    if address is None:
        return
    host, port = address
    parts = urlsplit(url)
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
    java = ["java", *NEO4J_JVM_FLAGS, *os.environ.get("NEO4J_JVM_EXTRA", "").split(), "-cp", classpath]
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
