"""The load: client processes (greedy and paced clients as threads) and the health prober."""

from __future__ import annotations

import http.client
import itertools
import random
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from bench.loadtest.common import (
    APPRAISAL_BODY,
    HEALTH_INTERVAL,
    PROBER_ADDRESS,
    REQUEST_TIMEOUT,
    Answer,
    Plan,
    client_address,
    error_code,
    request,
    special_address,
)

ROUTE_PAIRS = (("Jita", "Amarr"), ("Jita", "Dodixie"), ("Amarr", "Rens"), ("Hek", "Jita"), ("Perimeter", "Amarr"))
# Request mix: relative weights (appraisal only when the URL exists).
WEIGHTS = {"scan": 3, "route": 3, "route_svg": 1, "image": 5, "appraisal": 2}
NEW_IMAGE_SHARE = 0.25  # of image requests: a type id this client has not asked for (a miss when nobody has)
CLIENTS_PER_PROCESS = 25
GREEDY_PER_PROCESS = 5  # a greedy client never sleeps: fewer share one interpreter's lock


def _pick(rng: random.Random, plan: Plan, own_new: Iterator[int]) -> tuple[str, str, str, bytes | None]:
    """Choose a client's next request: (endpoint, method, path, body)."""
    names = [name for name in WEIGHTS if name != "appraisal" or plan.appraisal]
    endpoint = rng.choices(names, weights=[WEIGHTS[name] for name in names])[0]
    if endpoint == "scan":
        return endpoint, "GET", "/api/market/global/scan/", None
    if endpoint in ("route", "route_svg"):
        origin, destination = rng.choice(ROUTE_PAIRS)
        path = f"/api/routes/?origin={quote(origin)}&destination={quote(destination)}&mode=secure"
        return endpoint, "GET", path + ("&format=svg" if endpoint == "route_svg" else ""), None
    if endpoint == "image":
        type_id = next(own_new) if rng.random() < NEW_IMAGE_SHARE else rng.choice(plan.hot_types)
        return endpoint, "GET", f"/api/images/type/{type_id}?size=64", None
    return endpoint, "POST", "/api/appraisal/", APPRAISAL_BODY


def _retry_after(headers: dict[str, str]) -> float:
    """Read Retry-After as seconds (0 when absent or not a number of seconds)."""
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return 0.0


def _client(index: int, plan: Plan, answers: list[Answer], lock: threading.Lock) -> None:
    """Loop over the mix until the run ends: greedily, or paced and minding Retry-After."""
    greedy = plan.is_greedy(index)
    rng = random.Random(plan.seed * 1000 + index)
    source = client_address(plan.host, index)
    own_new = itertools.cycle(plan.new_types[index - 1 :: plan.clients] or plan.hot_types)
    start = plan.start_at
    end = start + plan.seconds
    while time.time() < start:
        time.sleep(min(0.05, max(0.0, start - time.time())))
    if not greedy:  # people's tools do not start on the same millisecond
        time.sleep(rng.uniform(0, plan.pause))
    mine: list[Answer] = []
    while time.time() < end:
        endpoint, method, path, body = _pick(rng, plan, own_new)
        began = time.perf_counter()
        started = time.time() - start
        status, failure, code, wait = 0, "", "", 0.0
        headers: dict[str, str] = {}
        try:
            status, headers, content = request(plan.host, plan.port, source, method, path, body=body)
            if status >= HTTPStatus.BAD_REQUEST:
                code = error_code(content)
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                wait = _retry_after(headers)
        except (OSError, http.client.HTTPException) as exc:
            failure = type(exc).__name__
        latency = time.perf_counter() - began
        mine.append(Answer(index, endpoint, status, failure, latency, started, code, "retry-after" in headers))
        if not greedy:
            time.sleep(max(0.0, min(max(plan.pause, wait), end - time.time())))
    with lock:
        answers.extend(mine)


def client_groups(plan: Plan) -> list[list[int]]:
    """Split the clients among processes, greedy and paced ones apart.

    Args:
        plan: The run.

    Returns:
        The client indexes of each process.
    """
    greedy = list(range(1, plan.greedy + 1))
    paced = list(range(plan.greedy + 1, plan.clients + 1))
    groups = [greedy[i : i + GREEDY_PER_PROCESS] for i in range(0, len(greedy), GREEDY_PER_PROCESS)]
    return groups + [paced[i : i + CLIENTS_PER_PROCESS] for i in range(0, len(paced), CLIENTS_PER_PROCESS)]


def client_group(indexes: list[int], plan: Plan, out: Any) -> None:
    """Run some clients as threads of this process and send their answers back.

    Args:
        indexes: The clients (1-based).
        plan: What to ask.
        out: A multiprocessing queue; receives ``("clients", answers, CPU seconds of this process)``.
    """
    answers: list[Answer] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_client, args=(i, plan, answers, lock), daemon=True) for i in indexes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=plan.seconds + REQUEST_TIMEOUT + 30)
    out.put(("clients", answers, time.process_time()))


def prober(plan: Plan, out: Any) -> None:
    """Ask ``/api/health/`` every 0.2 s from an address of its own, in a process of its own.

    Probes start on a fixed schedule, each on its own connection and thread, whether or not the
    previous one has answered (as a monitor with a timeout would), from ``plan.baseline`` seconds
    before the clients (those have a negative ``started``).

    Args:
        plan: The run (host, port, start and length).
        out: A multiprocessing queue; receives ``("health", answers, CPU seconds of this process)``.
    """
    source = special_address(plan.host, PROBER_ADDRESS)
    start = plan.start_at
    answers: list[Answer] = []
    lock = threading.Lock()

    def probe(at: float) -> None:
        """Ask once and record the answer."""
        began = time.perf_counter()
        status, failure, code = 0, "", ""
        try:
            status, _, content = request(plan.host, plan.port, source, "GET", "/api/health/", timeout=10)
            if status != HTTPStatus.OK:
                code = error_code(content)
        except (OSError, http.client.HTTPException) as exc:
            failure = type(exc).__name__
        answer = Answer(0, "health", status, failure, time.perf_counter() - began, at - start, code, False)
        with lock:
            answers.append(answer)

    threads: list[threading.Thread] = []
    first = start - plan.baseline
    for k in range(int((plan.baseline + plan.seconds) / HEALTH_INTERVAL)):
        at = first + k * HEALTH_INTERVAL
        time.sleep(max(0.0, at - time.time()))
        thread = threading.Thread(target=probe, args=(at,), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=15)
    with lock:
        out.put(("health", list(answers), time.process_time()))
