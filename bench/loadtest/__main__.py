"""``python -m bench.loadtest``: run the load test (see the package's docstring)."""

from __future__ import annotations

import sys

if __name__ == "__main__":  # spawned client processes import this module too: they must not run it
    from bench.loadtest.cli import main

    sys.exit(main(sys.argv[1:]))
