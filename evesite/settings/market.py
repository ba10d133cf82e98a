"""Market snapshots, scans and history."""

from __future__ import annotations

from evesite.env import (
    env_bool,
    env_float,
    env_int,
    env_int_list,
    env_str,
)

# --------------------------------------------------------------------------- EVE: market
MARKET_DEFAULT_SALES_TAX = env_float("MARKET_DEFAULT_SALES_TAX", 8.0)
MARKET_DEFAULT_BROKER_FEE = env_float("MARKET_DEFAULT_BROKER_FEE", 3.0)
# The Forge, Domain, Sinq Laison, Metropolis, Heimatar: the main trade hubs' regions.
MARKET_SNAPSHOT_REGIONS = env_int_list("MARKET_SNAPSHOT_REGIONS", [10000002, 10000043, 10000032, 10000042, 10000030])
# How long a region's orders count as fresh (Redis copy TTL; station and region scans refetch after it).
MARKET_CACHE_SECONDS = env_int("MARKET_CACHE_SECONDS", 1800)
# Rows returned by default: station scan, region and global scans; and the largest `limit` accepted.
MARKET_STATION_SCAN_LIMIT = env_int("MARKET_STATION_SCAN_LIMIT", 30)
MARKET_SCAN_LIMIT = env_int("MARKET_SCAN_LIMIT", 50)
MARKET_SCAN_MAX_LIMIT = env_int("MARKET_SCAN_MAX_LIMIT", 500)
# Longest a region refresh job holds its region (a dead worker's hold lapses after it).
MARKET_REFRESH_LOCK_SECONDS = env_int("MARKET_REFRESH_LOCK_SECONDS", 3600)
# After a failed refresh, scans of that region point at the failed job this long instead of queueing another.
MARKET_REFRESH_RETRY_SECONDS = env_int("MARKET_REFRESH_RETRY_SECONDS", 60)
# PostgreSQL work_mem of a scan query (its sorts and hashes stay in memory).
MARKET_SCAN_WORK_MEM = env_str("MARKET_SCAN_WORK_MEM", "64MB")

# ---- market history and daily volume (issue 18; market/history*.py)
# Fetch ESI's daily market history of the types that have orders in each snapshotted region (beat, hourly).
MARKET_HISTORY_ENABLED = env_bool("MARKET_HISTORY_ENABLED", True)
# Regions whose history the beat keeps fresh (the snapshotted hubs by default; each needs a current snapshot).
MARKET_HISTORY_REGIONS = env_int_list("MARKET_HISTORY_REGIONS", MARKET_SNAPSHOT_REGIONS)
# avg_daily_volume: summed volume of the last N calendar days ending at the region's latest history date, / N.
MARKET_HISTORY_DAYS = env_int("MARKET_HISTORY_DAYS", 30)
# Days of history stored per type (older days of ESI's ~13 months are not kept); at least MARKET_HISTORY_DAYS.
MARKET_HISTORY_KEEP_DAYS = env_int("MARKET_HISTORY_KEEP_DAYS", 90)
# Types fetched per hold of the ESI walk slot (one stored transaction each): order walks get the slot in between.
MARKET_HISTORY_BATCH_TYPES = env_int("MARKET_HISTORY_BATCH_TYPES", 50)
# A region's history job holds it this long past its last batch (a dead worker frees it).
MARKET_HISTORY_LOCK_SECONDS = env_int("MARKET_HISTORY_LOCK_SECONDS", 900)

# ---- player-structure markets (issue 18; market/structures.py)
# A structure's own snapshot replaces the region's orders at it for this long; older, it is dropped at the
# region's next store (the region's orders at the structure count again).
MARKET_STRUCTURE_MAX_AGE_SECONDS = env_int("MARKET_STRUCTURE_MAX_AGE_SECONDS", 86400)
# After ESI answered 403 (no docking access) to a character's read of a structure: not asked again this long.
MARKET_STRUCTURE_DENIAL_SECONDS = env_int("MARKET_STRUCTURE_DENIAL_SECONDS", 86400)
