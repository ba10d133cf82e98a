"""Public contracts and their valuation."""

from __future__ import annotations

from evesite.env import (
    env_float,
    env_int,
    env_int_list,
    env_str,
)

# --------------------------------------------------------------------------- EVE: contracts
# Regions whose public contracts the Celery beat refreshes (same hubs as the market by default).
CONTRACTS_REGIONS = env_int_list("CONTRACTS_REGIONS", [10000002, 10000043, 10000032, 10000042, 10000030])
# Contracts and items stay cached until the contract expires, never longer than this.
CONTRACTS_MAX_CACHE_DAYS = env_float("CONTRACTS_MAX_CACHE_DAYS", 30.0)
# Item fetches per region run (one ESI call per contract, once ever); the rest waits for the next run.
CONTRACTS_ITEM_FETCHES_PER_RUN = env_int("CONTRACTS_ITEM_FETCHES_PER_RUN", 2000)
# Auctions: fetch the bids (current bid) again when older than this; 0 disables bid fetching.
CONTRACTS_BIDS_MAX_AGE_SECONDS = env_float("CONTRACTS_BIDS_MAX_AGE_SECONDS", 3600.0)
# Where the Jita split comes from: the station's orders in the region's latest market snapshot.
CONTRACTS_PRICE_STATION_ID = env_int("CONTRACTS_PRICE_STATION_ID", 60003760)
CONTRACTS_PRICE_REGION_ID = env_int("CONTRACTS_PRICE_REGION_ID", 10000002)
CONTRACTS_COURIER_ROUTE_MODE = env_str("CONTRACTS_COURIER_ROUTE_MODE", "shortest")
# Dotted path of the price lookup (signature of market.selectors.market_station_best_prices).
CONTRACTS_PRICE_LOOKUP = env_str("CONTRACTS_PRICE_LOOKUP", "market.selectors.market_station_best_prices")
