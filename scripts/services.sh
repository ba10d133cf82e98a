#!/usr/bin/env bash
# Start, stop or check PostgreSQL, Redis and Neo4j (+APOC): scripts/services.sh up|down|status
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
py="$here/.venv/bin/python"
[ -x "$py" ] || py="$(command -v python3)"
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m scripts.servers "$@"
