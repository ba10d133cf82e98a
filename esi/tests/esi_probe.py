"""A small ESI client process for the cross-process tests (run with ``python -m esi.tests.esi_probe``).

``once PATH``: one GET, prints what happened. ``poll PATH SECONDS``: GET every
50 ms until the global lockdown refuses a call (or time runs out), prints the
number of calls that went through and whether a lockdown was met.
"""

from __future__ import annotations

import json
import sys
import time

import django


def main(argv: list[str]) -> int:
    """Run the probe.

    Args:
        argv: ``[mode, path, (seconds)]``.

    Returns:
        The exit code.
    """
    django.setup()
    from esi.client import EsiClient
    from esi.errors import EsiError, EsiLockdownError

    mode, path = argv[0], argv[1]
    client = EsiClient()
    if mode == "once":
        try:
            resp = client.get(path)
        except EsiLockdownError as exc:
            out = {"result": "lockdown", "retry_after": exc.retry_after}
        except EsiError as exc:
            out = {"result": type(exc).__name__, "status": exc.status}
        else:
            out = {"result": "ok", "status": resp.status}
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    deadline = time.monotonic() + float(argv[2])
    calls = 0
    out = {"result": "timeout", "calls": 0}
    while time.monotonic() < deadline:
        try:
            client.get(path, params={"n": calls})
        except EsiLockdownError as exc:
            out = {"result": "lockdown", "retry_after": exc.retry_after, "calls": calls, "at": time.monotonic()}
            break
        calls += 1
        out["calls"] = calls
        time.sleep(0.05)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
