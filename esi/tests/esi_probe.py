"""A small ESI client process for the cross-process tests (run with ``python -m esi.tests.esi_probe``).

``once PATH``: one GET, prints what happened. ``once-when-locked PATH SECONDS``: the
same, once the lockdown key exists (start-up time does not count). ``poll PATH SECONDS``: GET every
50 ms until the global lockdown refuses a call (or time runs out), prints the
number of calls that went through and whether a lockdown was met.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import django


def main(argv: list[str]) -> int:
    """Run the probe.

    Args:
        argv: ``[mode, path, (seconds)]``.

    Returns:
        The exit code.
    """
    django.setup()
    # The esi modules need the app registry: they can only be imported once Django is set up.
    from esi import limits  # noqa: PLC0415
    from esi.client import EsiClient  # noqa: PLC0415
    from esi.errors import EsiError, EsiLockdownError  # noqa: PLC0415
    from esi.transport import LockdownGuardAdapter  # noqa: PLC0415

    checks: list[float] = []

    class RecordingAdapter(LockdownGuardAdapter):
        """Remember when each request passed the lockdown check (Redis's clock)."""

        def transmit(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            """Record, then send.

            Args:
                request: The prepared request.
                *args: Passed on.
                **kwargs: Passed on.

            Returns:
                The response.
            """
            checks.append(request.esi_checked_at)
            return super().transmit(request, *args, **kwargs)

    class RecordingClient(EsiClient):
        """The client with the recording adapter."""

        adapter_class = RecordingAdapter

    mode, path = argv[0], argv[1]
    client = RecordingClient()
    out: dict[str, Any]
    if mode == "once-when-locked":
        # Start-up is done: wait (outside the client) for another process's lockdown, then try once.
        conn = limits.redis_connection()
        deadline = time.monotonic() + float(argv[2])
        while not conn.exists(limits.LOCKDOWN_KEY) and time.monotonic() < deadline:
            time.sleep(0.01)
        mode = "once"
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
            reason = limits.lockdown_reason() or {}
            out = {
                "result": "lockdown",
                "retry_after": exc.retry_after,
                "calls": calls,
                "last_check": max(checks, default=0.0),
                "lockdown_set_at": reason.get("set_at"),
            }
            break
        calls += 1
        out["calls"] = calls
        time.sleep(0.05)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
