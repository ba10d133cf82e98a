"""Benchmark: read every needed SDE table from each Fuzzwork dump format, built from ``<shared>/eve-sde``.

It builds the same dumps as ``universe/tests/test_formats.py`` (SQLite, its
bzip2 and gzip copies, ``pg_dump -Fc`` archives in schemas ``public`` and
``evesde``, a mysqldump ``.sql.gz`` and ``.tar.bz2``) in a temporary folder,
then opens each through the registry (``open_dump``) and reads every needed
table to the end, printing seconds, rows per second and the peak resident
memory of a child process per format (to show that no dump is held in memory).
The PostgreSQL archives are made from a scratch database that is dropped
afterwards; no table of the configured database is touched.

Run: ``.venv/bin/python bench/bench_sde_formats.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from universe.sde.mysqlsource import WANTED_TABLES  # noqa: E402
from universe.sde.sources import open_dump  # noqa: E402

READ_ARGV_LENGTH = 3  # bench_sde_formats.py --read DUMP (a child reading one dump)
FORMATS = ("sqlite", "sqlite.bz2", "sqlite.gz", "pgdump", "pgdump.evesde.bz2", "mysql.sql.gz", "mysql.tar.bz2")


def read_all(path: Path) -> dict[str, float]:
    """Open one dump and read every needed table it holds to the end.

    Args:
        path: The dump.

    Returns:
        Seconds, rows read and peak resident memory (MiB) of this process.
    """
    baseline_mib = _peak_mib()
    started = time.perf_counter()
    rows = 0
    dump = open_dump(path)
    try:
        present = {t.lower(): t for t in dump.tables()}
        for table in WANTED_TABLES:
            if table.lower() not in present:
                continue
            _columns, iterator = dump.rows(present[table.lower()])
            for _row in iterator:
                rows += 1
    finally:
        dump.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "peak_mib": _peak_mib(), "baseline_mib": baseline_mib}


def _peak_mib() -> float:
    """This process's peak resident memory so far (``VmHWM``, reset by exec unlike ``ru_maxrss``).

    Returns:
        MiB.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(folder: Path) -> dict[str, Path]:
    """Build every dump format from the shared SDE.

    Args:
        folder: Where to write them.

    Returns:
        Paths keyed like ``FORMATS``.
    """
    # Only the parent builds the dumps: the reading children must not load the test modules (their memory is measured).
    from universe.tests import test_formats as tf  # noqa: PLC0415

    shared = Path(settings.EVE_SHARED_DIR) / "eve-sde"
    tables = {name: tf.read_csv(shared / f"{name}.csv") for name in (*tf.NEEDED, *tf.EXTRA)}

    return tf.build_dumps(folder, tables)


def main() -> None:
    """Build the dumps, then read each in a child process and print the figures."""
    if len(sys.argv) == READ_ARGV_LENGTH and sys.argv[1] == "--read":
        print(json.dumps(read_all(Path(sys.argv[2]))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-sde-formats-") as tmp:
        started = time.perf_counter()
        dumps = build(Path(tmp))
        print(f"built {len(dumps)} dumps from the shared SDE in {time.perf_counter() - started:.1f} s")
        print(f"{'format':<20} {'size MiB':>9} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9} {'before':>7}")
        for key in FORMATS:
            path = dumps[key]
            done = subprocess.run(
                [sys.executable, __file__, "--read", str(path)], capture_output=True, text=True, check=True
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            size = path.stat().st_size / 2**20
            rate = figures["rows"] / figures["seconds"]
            print(
                f"{key:<20} {size:>9.1f} {figures['rows']:>9,} {figures['seconds']:>8.2f} {rate:>9,.0f}"
                f" {figures['peak_mib']:>9.0f} {figures['baseline_mib']:>7.0f}"
            )
        print("(sqlite.bz2, sqlite.gz and mysql.tar.bz2 leave out invTypes, as in the tests;")
        print(" peak MiB: the reading process's peak resident memory; before: its peak after start-up)")


if __name__ == "__main__":
    main()
