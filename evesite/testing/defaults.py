"""Read settings as a fresh process sees them with no environment: the documented defaults."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from functools import cache
from typing import Any

from django.conf import settings


def settings_defaults(*names: str) -> list[Any]:
    """Load ``evesite.settings.production`` in a subprocess with a clean environment and read some settings.

    Only PATH, HOME and LANG are kept (and a secret key, which has no default), so every other
    variable the settings read takes its default. The subprocess runs once per test process.

    Args:
        *names: Setting names.

    Returns:
        Their values, JSON round-tripped (tuples become lists, paths need ``str``).
    """
    defaults = _production_defaults()
    return [copy.deepcopy(defaults[name]) for name in names]


@cache
def _production_defaults() -> dict[str, Any]:
    """Every setting of a fresh process with no environment, JSON round-tripped (the settings module alone loads)."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({n: getattr(settings, n) for n in dir(settings) if n.isupper()}, default=str))"
    )
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env["DJANGO_SETTINGS_MODULE"] = "evesite.settings.production"
    env["DJANGO_SECRET_KEY"] = "defaults-test"  # noqa: S105 - the one variable without a default (DEBUG is off)
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
