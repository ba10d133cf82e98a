"""Run the command line: ``python -m scripts.servers up|down|status`` (what ``scripts/services.sh`` does)."""

from scripts.servers.main import main

main()
