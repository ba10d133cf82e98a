"""What every server module shares: paths, logging, running commands (as root), waiting, Debian packages."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
STATE_DIR = Path(os.environ.get("SERVICES_DIR", ROOT / ".services")).resolve()
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


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


@functools.cache
def _apt_update() -> None:
    """Refresh apt's package lists (once per run)."""
    run(as_root(["apt-get", "update", "-qq"]))


def apt_install(*packages: str) -> None:
    """Install Debian packages that are missing.

    Args:
        packages: Package names.
    """
    missing = [
        p
        for p in packages
        if run(["dpkg-query", "-W", "-f=${Status}", p], check=False, quiet=True).stdout.find("install ok installed") < 0
    ]
    if not missing:
        return
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    _apt_update()
    log(f"installing {' '.join(missing)} from Debian's packages")
    run(as_root([*env_cmd, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]), quiet=True)


def loopback_address(name: str, url: str, default_port: int) -> tuple[str, int] | None:
    """The loopback host and port a service's URL names, or None (logged) when it is not local.

    Args:
        name: The service, for the log line.
        url: Its URL.
        default_port: The port when the URL has none.

    Returns:
        (host, port) with ``localhost`` read as 127.0.0.1, or None for a remote host (left alone).
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    if host not in LOCAL_HOSTS:
        log(f"{name}: {host} is not local, left alone")
        return None
    return ("127.0.0.1" if host in ("", "localhost") else host), port
