"""Routing: zKillboard feed, risk model, penalties, jump tables."""

from __future__ import annotations

from evesite.env import (
    env_float,
    env_int,
    env_str,
)
from evesite.settings.esi import ESI_USER_AGENT

# --------------------------------------------------------------------------- EVE: routing / kills
ZKILLBOARD_URL = env_str("ZKILLBOARD_URL", "https://zkillboard.com")
ZKILLBOARD_R2Z2_URL = env_str("ZKILLBOARD_R2Z2_URL", "https://r2z2.zkillboard.com")
# zKillboard asks for a real User-Agent, gzip, and at most ~15 requests/s on R2Z2 (we space them much wider).
ZKILLBOARD_USER_AGENT = env_str("ZKILLBOARD_USER_AGENT", ESI_USER_AGENT)
ZKILLBOARD_TIMEOUT_SECONDS = env_float("ZKILLBOARD_TIMEOUT_SECONDS", 10.0)
ZKILLBOARD_REQUEST_DELAY_SECONDS = env_float("ZKILLBOARD_REQUEST_DELAY_SECONDS", 0.2)
ZKILLBOARD_RETRIES = env_int("ZKILLBOARD_RETRIES", 2)
ZKILLBOARD_RETRY_DELAY_SECONDS = env_float("ZKILLBOARD_RETRY_DELAY_SECONDS", 5.0)
# Longest wait before a retry that zKillboard's Retry-After may ask for.
ZKILLBOARD_MAX_RETRY_AFTER_SECONDS = env_float("ZKILLBOARD_MAX_RETRY_AFTER_SECONDS", 120.0)
ZKILLBOARD_MAX_RECORDS_PER_RUN = env_int("ZKILLBOARD_MAX_RECORDS_PER_RUN", 300)
# Neo4j label of the routed systems (tests point it at a scratch label).
ROUTING_GRAPH_LABEL = env_str("ROUTING_GRAPH_LABEL", "SolarSystem")
# Critical: at least N kills within T minutes, or a smartbomb kill within T minutes.
ROUTING_CRITICAL_KILLS = env_int("ROUTING_CRITICAL_KILLS", 5)
ROUTING_CRITICAL_WINDOW_MINUTES = env_float("ROUTING_CRITICAL_WINDOW_MINUTES", 10.0)
# High / elevated: ship + pod kills in the last hour (ESI system_kills or the zKillboard feed).
ROUTING_HIGH_KILLS_PER_HOUR = env_int("ROUTING_HIGH_KILLS_PER_HOUR", 10)
ROUTING_ELEVATED_KILLS_PER_HOUR = env_int("ROUTING_ELEVATED_KILLS_PER_HOUR", 3)
# Extra weight (in jumps) of every gate into a system of that level.
ROUTING_PENALTY_CRITICAL = env_float("ROUTING_PENALTY_CRITICAL", 50.0)
ROUTING_PENALTY_HIGH = env_float("ROUTING_PENALTY_HIGH", 5.0)
ROUTING_PENALTY_ELEVATED = env_float("ROUTING_PENALTY_ELEVATED", 1.0)
# Lexicographic constant of secure/insecure modes: one unwanted jump outweighs any number of others.
ROUTING_SECURITY_PENALTY = env_float("ROUTING_SECURITY_PENALTY", 1_000_000.0)
# A kill this close to a stargate (km) is reported "at" that gate.
ROUTING_GATE_RADIUS_KM = env_float("ROUTING_GATE_RADIUS_KM", 100.0)
# How long zKillboard kills and ESI's hourly counts are kept in Redis.
ROUTING_KILL_TTL_SECONDS = env_int("ROUTING_KILL_TTL_SECONDS", 3600)
ROUTING_SYSTEM_KILLS_TTL_SECONDS = env_int("ROUTING_SYSTEM_KILLS_TTL_SECONDS", 7200)
# How often a route query re-checks that every gate carries its weights.
ROUTING_WEIGHTS_CHECK_SECONDS = env_float("ROUTING_WEIGHTS_CHECK_SECONDS", 60.0)
# Longest time the risk written to the graph is trusted before a route query writes it again.
ROUTING_RISK_RESYNC_SECONDS = env_float("ROUTING_RISK_RESYNC_SECONDS", 300.0)

# ---- route-aware hauling scans and jump tables (issue 17; routing/jumps*.py, market/haul*.py)
# Most on-the-fly source trees one scan may compute (avoid lists, systems without NPC stations, a jump table
# being rebuilt); beyond it a scan with avoid answers 400, one waiting for a rebuilt table 503.
ROUTING_JUMPS_MAX_TREES = env_int("ROUTING_JUMPS_MAX_TREES", 400)
# How long the graph's fingerprint is trusted in Redis (the ingestion hook and every build refresh it).
ROUTING_JUMPS_STATE_SECONDS = env_int("ROUTING_JUMPS_STATE_SECONDS", 60)
# A plain (avoid_risk=false) table whose risk changed keeps its routes; its max_risk is rebuilt after this long
# (scans recompute max_risk of the rows they answer meanwhile).
ROUTING_JUMPS_RISK_SUMMARY_SECONDS = env_float("ROUTING_JUMPS_RISK_SUMMARY_SECONDS", 900.0)
# Sources per block of the vectorised tree walk (memory: about 80 bytes per source and routed system).
ROUTING_JUMPS_SOURCE_BLOCK = env_int("ROUTING_JUMPS_SOURCE_BLOCK", 64)
