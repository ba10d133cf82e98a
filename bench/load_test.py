"""Load test (issue 14): `.venv/bin/python bench/load_test.py [options]`; the code is in `bench/loadtest/`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if __name__ == "__main__":  # spawned client processes import this module too: they must not run it
    from bench.loadtest.cli import main

    sys.exit(main(sys.argv[1:]))
