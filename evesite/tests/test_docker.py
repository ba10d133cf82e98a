"""What the Docker files promise, checked statically (no Docker engine runs here).

Secrets stay out of the image and of Neo4j, the image runs as a non-root user, the API is published on
loopback only, Redis asks for a password, and Neo4j loads only the APOC procedures the code calls.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)
APP_SERVICES = {"web", "worker", "beat"}
#: A call of an APOC procedure or function: ``CALL apoc.x.y(`` or ``RETURN apoc.version()``.
APOC_CALL = re.compile(r"\b(apoc(?:\.[A-Za-z_]\w*)+)\s*\(")
#: Compose interpolations (``${NAME}``, ``${NAME:?msg}``); ``$${...}`` is a literal dollar for the container.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_]\w*)")
#: What runs in production: test code (and test-only APOC calls like apoc.util.sleep) does not count.
NOT_PRODUCTION = {"tests", "testing", "bench", "staticfiles", "eve_data", "node_modules"}


def _compose() -> dict[str, Any]:
    """Load docker-compose.yml."""
    data: dict[str, Any] = yaml.safe_load((BASE / "docker-compose.yml").read_text())
    return data


def _dockerfile() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (BASE / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _apoc_calls_in_code() -> set[str]:
    """Scan the project's production .py files for APOC calls."""
    calls: set[str] = set()
    for folder, dirs, files in os.walk(BASE):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in NOT_PRODUCTION]
        for name in files:
            if name.endswith(".py") and not name.startswith("test_") and name != "conftest.py":
                calls.update(APOC_CALL.findall((Path(folder) / name).read_text("utf-8")))
    return calls


def test_published_ports_are_on_loopback_only() -> None:
    """The API is published on the host's 127.0.0.1:7777, and no service publishes anything else elsewhere."""
    services = _compose()["services"]
    assert services["web"]["ports"] == ["127.0.0.1:7777:7777"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_only_the_app_containers_read_env_file() -> None:
    """Neo4j (and PostgreSQL, Redis) get no env_file: .env holds every secret of the app."""
    services = _compose()["services"]
    for name, service in services.items():
        if name in APP_SERVICES:
            assert service["env_file"] == ".env", name
        else:
            assert "env_file" not in service, name


def test_neo4j_gets_its_own_password_only() -> None:
    """The only variable Neo4j's service interpolates is NEO4J_PASSWORD, and only into NEO4J_AUTH."""
    neo4j = _compose()["services"]["neo4j"]
    assert set(INTERPOLATION.findall(yaml.safe_dump(neo4j))) == {"NEO4J_PASSWORD"}
    env = neo4j["environment"]
    assert env["NEO4J_AUTH"] == "neo4j/${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
    for key, value in env.items():
        assert key in {"NEO4J_AUTH", "NEO4J_PLUGINS"} or re.match(r"NEO4J_(dbms|server|db)_", key), key
        assert key == "NEO4J_AUTH" or not INTERPOLATION.search(str(value)), key
    # Its healthcheck takes the password from NEO4J_AUTH (the container has no NEO4J_PASSWORD).
    health = " ".join(neo4j["healthcheck"]["test"])
    assert "NEO4J_AUTH" in health
    assert "-p " not in health


def test_redis_requires_a_password_and_the_app_sends_it() -> None:
    """redis-server runs with --requirepass; REDIS_URL carries the password; the healthcheck authenticates."""
    services = _compose()["services"]
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--requirepass") + 1] == "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    assert redis["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    health = " ".join(redis["healthcheck"]["test"])
    assert "redis-cli" in health
    assert "PONG" in health  # an unauthenticated ping answers NOAUTH with exit status 0
    for name in APP_SERVICES:
        url = services[name]["environment"]["REDIS_URL"]
        assert url == "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD}@redis:6379/0", name


def test_apoc_allowlist_is_what_the_code_calls() -> None:
    """Neo4j loads exactly the APOC procedures and functions that production code (and the healthcheck) calls."""
    neo4j = _compose()["services"]["neo4j"]
    env = neo4j["environment"]
    used = _apoc_calls_in_code() | set(APOC_CALL.findall(" ".join(neo4j["healthcheck"]["test"])))
    assert used >= {"apoc.algo.dijkstra", "apoc.path.subgraphNodes", "apoc.version"}  # the scan works
    allowlist = set(env["NEO4J_dbms_security_procedures_allowlist"].split(","))
    assert allowlist == used
    unrestricted = set(env["NEO4J_dbms_security_procedures_unrestricted"].split(","))
    assert unrestricted <= allowlist
    assert not any("*" in name for name in allowlist | unrestricted)


def test_the_image_runs_as_a_non_root_user() -> None:
    """The last USER of the Dockerfile is neither root nor uid 0, and it comes before CMD."""
    instructions = _dockerfile()
    users = [i for i, (keyword, _) in enumerate(instructions) if keyword == "USER"]
    assert users, "the Dockerfile sets no USER: the processes would run as root"
    user = instructions[users[-1]][1].split(":")[0].strip()
    assert user not in {"root", "0"}
    cmd = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "CMD")
    assert users[-1] < cmd


def test_the_image_installs_the_hashed_lock() -> None:
    """The image installs requirements.lock with --require-hashes, nothing unpinned."""
    runs = [args for keyword, args in _dockerfile() if keyword == "RUN" and "pip install" in args]
    assert runs == ["pip install --no-cache-dir --require-hashes -r requirements.lock"]
    assert ("COPY", "requirements.lock .") in _dockerfile()


def test_secrets_stay_out_of_the_build_context_and_git() -> None:
    """.env (and the local key files) are in .dockerignore and .gitignore."""
    dockerignore = (BASE / ".dockerignore").read_text().splitlines()
    gitignore = (BASE / ".gitignore").read_text().splitlines()
    for name in (".env", ".local_secret_key"):
        assert name in dockerignore, name
        assert name in gitignore, name
