"""The lock files pin every package, transitive ones too, with hashes, and match requirements*.txt.

``make lock`` writes them (uv pip compile --generate-hashes). ``make install`` installs uv from
requirements-bootstrap.lock with ``pip install --require-hashes``, then requirements-dev.lock with
``uv pip install --require-hashes``; the Dockerfile installs requirements.lock with pip. Editing a
requirements*.txt without re-locking fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)\s*(;.*)?$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def _name(raw: str) -> str:
    """Normalise a distribution name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", raw).lower()


@dataclass
class Locked:
    """One entry of a lock file."""

    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def _lock(name: str) -> dict[str, Locked]:
    """Parse a lock file written by uv: requirement lines with their --hash options and ``# via`` comments.

    Raises:
        AssertionError: On a line that is not a pinned requirement, a sha256 hash or a comment.
    """
    entries: dict[str, Locked] = {}
    current: Locked | None = None
    in_via = False
    for line in (BASE / name).read_text().splitlines():
        text = line.strip().removesuffix("\\").strip()
        if not text:
            continue
        if text.startswith("#"):
            comment = text.lstrip("#").strip()
            if comment.startswith("via"):
                in_via = True
                comment = comment.removeprefix("via").strip()
            if current is not None and in_via and comment:
                current.via.append(comment)
            continue
        in_via = False
        if line.startswith((" ", "\t")):
            assert current is not None, f"{name}: {line!r}"
            assert HASH.match(text), f"{name}: {line!r}"
            current.hashes.append(text)
            continue
        match = PIN.match(text)
        assert match, f"{name}: not an exact pin: {line!r}"
        current = Locked(version=match.group(3))
        entries[_name(match.group(1))] = current
    return entries


def _top_level(name: str) -> dict[str, str]:
    """Return the pinned requirements of a requirements*.txt, by normalised name (``-r`` lines skipped)."""
    pins = {}
    for line in (BASE / name).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("-r "):
            continue
        match = PIN.match(text)
        assert match, f"{name}: every requirement is pinned with ==: {line!r}"
        pins[_name(match.group(1))] = match.group(3)
    return pins


@pytest.mark.parametrize(
    ("lock", "at_least"), [("requirements.lock", 40), ("requirements-dev.lock", 40), ("requirements-bootstrap.lock", 1)]
)
def test_every_locked_package_is_pinned_with_hashes(lock: str, at_least: int) -> None:
    """Each entry is name==version with at least one sha256 (--require-hashes needs them all)."""
    entries = _lock(lock)
    assert len(entries) >= at_least
    missing = sorted(name for name, entry in entries.items() if not entry.hashes)
    assert missing == []


@pytest.mark.parametrize(
    ("requirements", "lock", "sources"),
    [
        ("requirements.txt", "requirements.lock", {"-r requirements.txt"}),
        ("requirements-dev.txt", "requirements-dev.lock", {"-r requirements-dev.txt"}),
        ("requirements-bootstrap.txt", "requirements-bootstrap.lock", {"-r requirements-bootstrap.txt"}),
    ],
)
def test_the_lock_matches_its_requirements(requirements: str, lock: str, sources: set[str]) -> None:
    """Every top-level pin is locked at its version, and the lock has no top-level package the file dropped."""
    wanted = _top_level(requirements)
    entries = _lock(lock)
    stale = {name: (version, entries[name].version if name in entries else None) for name, version in wanted.items()}
    assert {k: v for k, v in stale.items() if v[0] != v[1]} == {}, f"{requirements} changed: run `make lock`"
    locked_top = {name for name, entry in entries.items() if sources & set(entry.via)}
    assert locked_top == set(wanted), f"{requirements} changed: run `make lock`"


def test_dev_lock_has_the_runtime_lock_inside() -> None:
    """`make install` gets the same runtime versions as the Docker image, plus the dev tools and pip itself."""
    runtime, dev = _lock("requirements.lock"), _lock("requirements-dev.lock")
    assert {name: dev[name].version if name in dev else None for name in runtime} == {
        name: entry.version for name, entry in runtime.items()
    }
    assert set(_top_level("requirements.txt")) <= {name for name, e in dev.items() if "-r requirements.txt" in e.via}
    assert "pip" in dev
    assert "uv" in dev


def test_the_bootstrap_lock_is_the_dev_locks_uv() -> None:
    """The uv pip installs first is the one requirements-dev.lock pins, with the same hashes."""
    bootstrap, dev = _lock("requirements-bootstrap.lock"), _lock("requirements-dev.lock")
    assert set(bootstrap) == {"uv"}
    assert (bootstrap["uv"].version, sorted(bootstrap["uv"].hashes)) == (dev["uv"].version, sorted(dev["uv"].hashes))


def test_make_install_uses_the_locks_with_hashes() -> None:
    """The .installed stamp depends on the three locks: pip installs uv, uv the dev lock, both --require-hashes."""
    makefile = (BASE / "Makefile").read_text()
    rule = re.search(r"^\$\(VENV\)/\.installed:(.*?)\n\n", makefile, re.M | re.S)
    assert rule
    head, *recipe = rule.group(1).splitlines()
    assert set(head.split()) == {"requirements.lock", "requirements-dev.lock", "requirements-bootstrap.lock"}
    installs = [line.strip() for line in recipe if "pip install" in line]
    assert installs == [
        "$(PY) -m pip install -q --require-hashes -r requirements-bootstrap.lock",
        "$(VENV)/bin/uv pip install -q --python $(PY) --require-hashes -r requirements-dev.lock",
    ]
    assert re.search(r"^lock:", makefile, re.M)
