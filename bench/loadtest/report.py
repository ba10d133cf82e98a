"""The figures of a run, the pass/fail verdict and a summary table for the README."""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from bench.loadtest.common import ENDPOINTS, HEALTH_TARGET_MS, OK_STATUSES, PROBER_ADDRESS, Answer, Plan

_IDLE, _IOWAIT = 3, 4  # columns of the cpu line of /proc/stat (after its name)


@dataclass
class Usage:
    """Where the machine's CPU went (the figures depend on what else runs on it)."""

    loadavg: str = ""  # /proc/loadavg before the run
    busy_baseline: float = 0.0  # machine CPU busy share during the baseline probes (0..1)
    busy_run: float = 0.0  # ... during the run
    gunicorn: float = 0.0  # CPU seconds of gunicorn during the run
    worker: float = 0.0  # ... of the Celery worker
    generator: float = 0.0  # ... of the load generator (clients and prober, whole processes)


def pct(values: Sequence[float], q: float) -> float:
    """Return the q-quantile (nearest rank) of latencies in seconds, in milliseconds.

    Args:
        values: Latencies in seconds.
        q: The quantile (0..1).

    Returns:
        Milliseconds (0 when empty).
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _latencies(values: Sequence[float]) -> str:
    """Format p50/p99/max in ms ("-" when empty)."""
    if not values:
        return "-"
    return f"p50 {pct(values, 0.5):7.1f}  p99 {pct(values, 0.99):7.1f}  max {1000 * max(values):7.1f} ms"


def _status_name(answer: Answer) -> str:
    """Name an answer's outcome: its status, or the exception's name."""
    return str(answer.status) if answer.status else answer.failure


def _statuses(answers: Sequence[Answer]) -> str:
    """Count the outcomes: ``200: 812, 429: 40``."""
    counts = Counter(_status_name(a) for a in answers)
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def access_log(path: Path) -> dict[str, list[float]]:
    """Read the server-side request times from gunicorn's access log.

    Args:
        path: The log (``ACCESS_LOG_FORMAT`` lines mixed with gunicorn's own).

    Returns:
        Endpoint -> seconds spent in the server (``health`` counts the prober's only), in the log's order.
    """
    prefixes = {
        "/api/market/global/scan/": "scan",
        "/api/images/": "image",
        "/api/appraisal/": "appraisal",
    }
    times: dict[str, list[float]] = defaultdict(list)
    for line in path.read_text(errors="replace").splitlines():
        try:
            address, rest = line.split(' "', 1)
            request_line, tail = rest.rsplit('" ', 1)
            seconds = float(tail.split()[-1])
            target = request_line.split()[1]
        except (ValueError, IndexError):
            continue
        if target.startswith("/api/health/"):
            name = "health" if address in (PROBER_ADDRESS, "::1") else "health (setup)"
        elif target.startswith("/api/routes/"):
            name = "route_svg" if "format=svg" in target else "route"
        else:
            name = next((v for k, v in prefixes.items() if target.startswith(k)), "other")
        times[name].append(seconds)
    return times


def cpu_ticks() -> tuple[int, int]:
    """Read the machine's busy and total CPU ticks since boot.

    Returns:
        (busy, total).
    """
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[_IDLE] + (fields[_IOWAIT] if len(fields) > _IOWAIT else 0)
    return sum(fields) - idle, sum(fields)


def _print_endpoints(answers: Sequence[Answer], server_times: dict[str, list[float]]) -> None:
    """Print each endpoint's outcomes and latencies: all answers, those not 429, inside gunicorn."""
    print(f"{'endpoint':<10} {'count':>6}  {'statuses':<34} client latency (all answers)")
    for name in ENDPOINTS:
        group = [a for a in answers if a.endpoint == name]
        if not group:
            continue
        served = [a.latency for a in group if a.status != HTTPStatus.TOO_MANY_REQUESTS]
        print(f"{name:<10} {len(group):>6}  {_statuses(group):<34} {_latencies([a.latency for a in group])}")
        print(f"{'':<10} {'':>6}  {'not 429: ' + str(len(served)):<34} {_latencies(served)}")
        print(f"{'':<10} {'':>6}  {'in gunicorn (access log)':<34} {_latencies(server_times.get(name, []))}")


def _print_health(health: Sequence[Answer], baseline: Sequence[Answer], server_times: dict[str, list[float]]) -> None:
    """Print the prober's figures: during the run, inside gunicorn, before the clients, the slowest probes."""
    latencies = [a.latency for a in health]
    slow = sorted((a for a in health if a.latency * 1000 > HEALTH_TARGET_MS), key=lambda a: -a.latency)
    print(f"{'health':<10} {len(health):>6}  {_statuses(health):<34} {_latencies(latencies)}")
    # The log's first prober lines are the baseline probes (they finish before the clients start).
    server = server_times.get("health", [])[len(baseline) :]
    print(f"{'':<10} {'':>6}  {'in gunicorn (access log)':<34} {_latencies(server)}")
    baseline_text = _latencies([a.latency for a in baseline])
    print(f"{'':<10} {len(baseline):>6}  {'baseline (before the clients)':<34} {baseline_text}")
    print(f"{'':<10} {'':>6}  over {HEALTH_TARGET_MS:.0f} ms: {len(slow)} of {len(health)}")
    if slow:
        worst = ", ".join(f"{a.started:.1f}: {1000 * a.latency:.0f}" for a in slow[:5])
        print(f"           slowest probes (s into the run: ms): {worst}")


def _good_429(answer: Answer) -> bool:
    """Tell whether an answer is a 429 with Retry-After and a JSON error."""
    return answer.status == HTTPStatus.TOO_MANY_REQUESTS and answer.retry_after and answer.error_code not in ("", "?")


def _print_throttled(answers: Sequence[Answer], plan: Plan) -> None:
    """Print the 429s of greedy and of paced clients apart."""
    for kind, greedy, clients in (("greedy", True, plan.greedy), ("paced", False, plan.clients - plan.greedy)):
        mine = [a for a in answers if plan.is_greedy(a.client) == greedy]
        throttled = [a for a in mine if a.status == HTTPStatus.TOO_MANY_REQUESTS]
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(Counter(a.error_code for a in throttled).items()))
        hit = len({a.client for a in throttled if _good_429(a)})
        note = "no pause, Retry-After ignored" if greedy else f"{plan.pause:g} s apart, Retry-After waited out"
        print(
            f"{kind} clients ({note}): {len(mine)} answers ({len(mine) / max(1, clients) / plan.seconds:.1f}/s "
            f"each); 429: {len(throttled)} ({codes or 'none'}); clients with a 429 (Retry-After, JSON error): "
            f"{hit} of {clients}"
        )


def summary_table(answers: Sequence[Answer], health: Sequence[Answer], plan: Plan) -> str:
    """Format the run as a Markdown table: endpoint, count, statuses, client latency p50/p99/max.

    Args:
        answers: The clients' answers.
        health: The prober's answers during the run.
        plan: The run.

    Returns:
        The table.
    """
    rows = [(name, [a for a in answers if a.endpoint == name]) for name in ENDPOINTS]
    rows.append(("health", list(health)))
    rows.append((f"greedy clients ({plan.greedy})", [a for a in answers if plan.is_greedy(a.client)]))
    rows.append((f"paced clients ({plan.clients - plan.greedy})", [a for a in answers if not plan.is_greedy(a.client)]))
    lines = ["| endpoint | count | statuses | p50 ms | p99 ms | max ms |", "|---|---:|---|---:|---:|---:|"]
    for name, group in rows:
        if group:
            latencies = [a.latency for a in group]
            figures = f"{pct(latencies, 0.5):.1f} | {pct(latencies, 0.99):.1f} | {1000 * max(latencies):.1f}"
            lines.append(f"| {name} | {len(group)} | {_statuses(group)} | {figures} |")
    return "\n".join(lines)


def _checks(answers: Sequence[Answer], health: Sequence[Answer], plan: Plan, outside: int) -> list[tuple[str, bool]]:
    """Return the verdict's checks: (what, met)."""
    latencies = [a.latency for a in health]
    health_max = 1000 * max(latencies, default=0)
    not_200 = sum(1 for a in health if a.status != HTTPStatus.OK)
    greedy_hit = {a.client for a in answers if plan.is_greedy(a.client) and _good_429(a)}
    unexpected = [a for a in answers if a.status not in OK_STATUSES]
    server_errors = sum(1 for a in [*answers, *health] if a.status >= HTTPStatus.INTERNAL_SERVER_ERROR)
    broken = sum(1 for a in [*answers, *health] if a.status == 0)
    bad_429 = sum(1 for a in answers if a.status == HTTPStatus.TOO_MANY_REQUESTS and not _good_429(a))
    return [
        (
            f"health max {health_max:.1f} ms <= {HEALTH_TARGET_MS:.0f} ms (p99 {pct(latencies, 0.99):.1f} ms)",
            bool(health) and health_max <= HEALTH_TARGET_MS,
        ),
        (f"health always 200 ({not_200} not)", bool(health) and not not_200),
        (
            f"every greedy client got a 429 with Retry-After and a JSON error ({len(greedy_hit)} of {plan.greedy})",
            len(greedy_hit) == plan.greedy,
        ),
        (f"every answer 200/201/202/304/429 ({len(unexpected)} not)", not unexpected),
        (f"no 5xx ({server_errors})", not server_errors),
        (f"no connection errors or timeouts ({broken})", not broken),
        (f"every 429 has Retry-After and a JSON error ({bad_429} not)", not bad_429),
        (f"nothing left the machine ({outside} outside requests)", outside == 0),
    ]


def report(
    answers: list[Answer],
    health_all: list[Answer],
    plan: Plan,
    *,
    server_times: dict[str, list[float]],
    upstream: dict[str, int],
    usage: Usage,
    server: str,
) -> bool:
    """Print the figures, the checks and the summary table.

    Args:
        answers: The clients' answers.
        health_all: The prober's answers (baseline ones have a negative ``started``).
        plan: The run.
        server_times: Request times inside gunicorn, per endpoint, in the log's order.
        upstream: Requests that reached the fake image server and the fake outside.
        usage: CPU figures.
        server: What served (for the summary's heading).

    Returns:
        True when every check passes.
    """
    baseline = [a for a in health_all if a.started < 0]
    health = [a for a in health_all if a.started >= 0]
    cpus = os.cpu_count() or 1
    print(
        f"\nmachine: {cpus} CPUs, load average before the run {usage.loadavg}; CPU busy "
        f"{100 * usage.busy_baseline:.0f}% before the clients, {100 * usage.busy_run:.0f}% during the run "
        f"(gunicorn {usage.gunicorn:.1f} s, worker {usage.worker:.1f} s, load generator {usage.generator:.1f} s "
        f"of {cpus * plan.seconds:.0f} CPU-seconds)"
    )
    rate = len(answers) / plan.seconds
    print(f"{len(answers)} answers to {plan.clients} clients in {plan.seconds:g} s ({rate:.0f}/s)")
    _print_endpoints(answers, server_times)
    _print_health(health, baseline, server_times)
    _print_throttled(answers, plan)
    print(
        f"image server downloads (misses fetched): {upstream['images']}; "
        f"requests that reached the fake outside (ESI, zKillboard, SSO, Fuzzwork): {upstream['outside']}"
    )
    unexpected = Counter(
        f"{a.endpoint} {_status_name(a)} {a.error_code}".strip() for a in answers if a.status not in OK_STATUSES
    )
    if unexpected:
        print("unexpected answers: " + ", ".join(f"{k} x{v}" for k, v in unexpected.most_common(8)))
    checks = _checks(answers, health, plan, upstream["outside"])
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(
        f"\nsummary: {plan.clients} anonymous clients ({plan.greedy} greedy, {plan.clients - plan.greedy} paced "
        f"{plan.pause:g} s) for {plan.seconds:g} s; {server}; {cpus} CPUs\n"
    )
    print(summary_table(answers, health, plan))
    return all(ok for _, ok in checks)
