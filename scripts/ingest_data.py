#!/usr/bin/env python
"""Ingest the SDE: a thin wrapper around ``python manage.py ingest_data`` (same options)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.management import execute_from_command_line


def main() -> None:
    """Run the management command with this script's arguments."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")
    execute_from_command_line(["manage.py", "ingest_data", *sys.argv[1:]])


if __name__ == "__main__":
    main()
