"""
A small, bounded HTTP load generator for the example project's JSON API.

Threads and ``http.client`` only, loopback only. Used by ``rollout.py``; see
``example_project/bookstore/views.py`` for the API it drives.

Each worker thread loops until told to stop (or until ``max_requests``
requests were sent in all): it picks the next target (round robin over the
releases currently receiving traffic), one of the models *that release*
serves (``GET /api/`` describes them), and an operation:

    list 40%   GET    /api/<model>/
    create 30% POST   /api/<model>/          fields generated from the schema
    update 20% POST   /api/<model>/<pk>/     a row this generator created
    delete 10% DELETE /api/<model>/<pk>/     a row this generator created

A foreign key is set to one of a few "stable" rows created once before the
load starts and never deleted, so no request races a cascade. Every request
is counted against the phase in effect when it started.

A request has **failed** when it raised (connection refused or reset,
timeout) or answered anything but the expected status. An update or delete
answering 404 is *not* a failure: another thread deleted that row first.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

WEIGHTS = {"list": 40, "create": 30, "update": 20, "delete": 10}
STABLE_ROWS = 3


@dataclass
class Target:
    """One release serving HTTP on 127.0.0.1:port."""

    name: str
    port: int
    schema: dict = field(default_factory=dict)  # model -> [field description]

    def request(self, method, path, data=None, timeout=15.0):
        """Return (status, body bytes). Raises on transport errors."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Accept": "application/json, text/plain"}
            body = None
            if data is not None:
                body = urllib.parse.urlencode(data)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def load_schema(self):
        status, body = self.request("GET", "/api/")
        if status != 200:
            raise RuntimeError(f"{self.name}: GET /api/ answered {status}")
        self.schema = json.loads(body)["models"]
        return self.schema


@dataclass
class PhaseStats:
    total: int = 0
    failed: int = 0
    gone: int = 0  # update/delete of a row another thread deleted first
    latencies: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    by_target: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def percentile(self, q):
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def error_summary(status, body):
    """One line naming the error: Django's plain-text 500 page starts with
    '<ExceptionType> at <path>' followed by the message."""
    if status is None:
        return body
    lines = [
        line.strip()
        for line in body.decode("utf-8", "replace").splitlines()
        if line.strip()
    ]
    if status >= 500 and len(lines) >= 2 and " at /" in lines[0]:
        return f"{status} {lines[0].split(' at /')[0]}: {lines[1][:100]}"
    return f"{status} {(lines[0] if lines else '')[:100]}"


class LoadGenerator:
    def __init__(self, threads=4, interval=0.01, max_requests=100_000, seed=0):
        self.threads = threads
        self.interval = interval
        self.max_requests = max_requests
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.targets: list[Target] = []
        self.phase = "idle"
        self.stats: dict[str, PhaseStats] = {}
        self.sent = 0
        self.stable: dict[str, list[int]] = {}
        self.created: dict[str, list[int]] = {}
        self.serial = 0
        self.workers: list[threading.Thread] = []

    # -- control (called by the rehearsal) -----------------------------------

    def set_targets(self, targets):
        for target in targets:
            if not target.schema:
                target.load_schema()
        with self.lock:
            self.targets = list(targets)

    def set_phase(self, name):
        with self.lock:
            self.phase = name
            self.stats.setdefault(name, PhaseStats())

    def seed(self, target):
        """Create the stable rows foreign keys point at (not counted)."""
        schema = target.schema or target.load_schema()
        related = {
            f["related_model"]
            for fields in schema.values()
            for f in fields
            if f["related_model"]
        }
        for model in sorted(related):
            for _ in range(STABLE_ROWS):
                status, body = target.request(
                    "POST", f"/api/{model}/", self.values(schema[model], model)
                )
                if status != 201:
                    raise RuntimeError(
                        f"seeding {model} failed: {error_summary(status, body)}"
                    )
                self.stable.setdefault(model, []).append(json.loads(body)["pk"])

    def start(self):
        self.stop_event.clear()
        self.workers = [
            threading.Thread(target=self.work, args=(i,), daemon=True)
            for i in range(self.threads)
        ]
        for worker in self.workers:
            worker.start()

    def stop(self):
        self.stop_event.set()
        for worker in self.workers:
            worker.join(timeout=60)

    # -- the work ------------------------------------------------------------

    def values(self, fields, model):
        with self.lock:
            self.serial += 1
            serial = self.serial
            data = {}
            for f in fields:
                kind = f["type"]
                if f["related_model"]:
                    pool = self.stable.get(f["related_model"])
                    if pool:
                        data[f["name"]] = self.random.choice(pool)
                elif kind in ("CharField", "TextField"):
                    data[f["name"]] = f"{model} {serial}"[: f["max_length"] or 100]
                elif "IntegerField" in kind:
                    data[f["name"]] = self.random.randint(1, 5)
        return data

    def next_request(self, turn):
        """(target, model, op, method, path, data), chosen under the lock."""
        with self.lock:
            if not self.targets:
                return None
            target = self.targets[turn % len(self.targets)]
            phase = self.phase
            model = self.random.choice(sorted(target.schema))
            op = self.random.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
            pool = self.created.setdefault(model, [])
            if op in ("update", "delete") and not pool:
                op = "create"
            pk = None
            if op == "update":
                pk = self.random.choice(pool)
            elif op == "delete":
                pk = pool.pop(self.random.randrange(len(pool)))
        data = None
        if op in ("create", "update"):
            data = self.values(target.schema[model], model)
        if op == "list":
            return phase, target, model, op, "GET", f"/api/{model}/", None
        if op == "create":
            return phase, target, model, op, "POST", f"/api/{model}/", data
        if op == "update":
            return phase, target, model, op, "POST", f"/api/{model}/{pk}/", data
        return phase, target, model, op, "DELETE", f"/api/{model}/{pk}/", None

    def work(self, index):
        turn = index
        while not self.stop_event.is_set():
            with self.lock:
                if self.sent >= self.max_requests:
                    return
                self.sent += 1
            chosen = self.next_request(turn)
            turn += 1
            if chosen is None:
                time.sleep(self.interval)
                continue
            phase, target, model, op, method, path, data = chosen
            expected = {"list": 200, "create": 201, "update": 200, "delete": 204}[op]
            start = time.perf_counter()
            try:
                status, body = target.request(method, path, data)
            except (OSError, http.client.HTTPException) as exc:
                status, body = None, f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            with self.lock:
                stats = self.stats.setdefault(phase, PhaseStats())
                stats.total += 1
                stats.by_target[target.name] += 1
                stats.latencies.append(elapsed)
                if status == expected:
                    if op == "create":
                        self.created.setdefault(model, []).append(
                            json.loads(body)["pk"]
                        )
                elif status == 404 and op in ("update", "delete"):
                    stats.gone += 1
                else:
                    stats.failed += 1
                    stats.errors[
                        f"{target.name} {op} {model}: {error_summary(status, body)}"
                    ] += 1
            self.stop_event.wait(self.interval)
