#!/usr/bin/env python3
"""Soak: mixed traffic against one server for a while, watching for errors
and for resident memory that keeps growing.

  members      submit visits to their households (each with its own
               Idempotency-Key), one after another with a short pause;
  secretaries  take the oldest pending visit of their queue and decide it;
  dashboard    the township admin polls the overview, branches and weekly
               series every second with If-None-Match, as the page does.

Every answer must be the expected one (201, 200 or 304): the error count must
be 0. The server's VmRSS is sampled every few seconds; growth is the last
fifth's median against the median of the minute (or fifth) after warm-up, and
must stay under 10 %.

Usage: bench/soak.py SECONDS SERVER_PID BASE_URL   (run through bench/soak)
"""

import http.client
import json
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlparse

PASSWORD = "xianfeng-demo"
ADMIN = "13800000000"
SECRETARIES = ["13800000100", "13800000110"]
MEMBERS = ["13800000101", "13800000102", "13800000111", "13800000112"]
MAX_GROWTH = 0.10


class Client:
    def __init__(self, base):
        url = urlparse(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def call(self, method, path, body=None, token=None, headers=None):
        sent = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=payload, headers=sent)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        decoded = json.loads(raw) if raw and response.getheader("Content-Type", "").startswith("application/json") else None
        return response.status, decoded, response.getheader("ETag")


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_kind = {}
        self.errors = []

    def add(self, kind, ok, detail=""):
        with self.lock:
            done, failed = self.by_kind.get(kind, (0, 0))
            self.by_kind[kind] = (done + 1, failed + (0 if ok else 1))
            if not ok and len(self.errors) < 20:
                self.errors.append(f"{kind}: {detail}")

    def error_count(self):
        return sum(failed for _, failed in self.by_kind.values())


def login(base, phone):
    status, body, _ = Client(base).call("POST", "/api/v1/auth/login", {"phone": phone, "password": PASSWORD})
    if status != 200:
        raise SystemExit(f"soak: login {phone} answered {status}")
    return body["access_token"]


def member(base, phone, stop, counts):
    token = login(base, phone)
    client = Client(base)
    _, body, _ = client.call("GET", "/api/v1/me/households", token=token)
    households = body["items"]
    n = 0
    while not stop.is_set() and households:
        household = households[n % len(households)]
        n += 1
        location = household.get("location") or {"lat": 30.276, "lng": 120.153}
        visit = {
            "household_id": household["id"],
            "kind": "assistance",
            "visited_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "location": {"lat": location["lat"], "lng": location["lng"], "accuracy_m": 8},
            "summary": f"长时间运行走访 {phone} 第{n}次",
        }
        try:
            status, body, _ = client.call("POST", "/api/v1/visits", visit, token,
                                          {"Idempotency-Key": str(uuid.uuid4())})
            counts.add("member submits", status == 201, f"{status} {body}")
        except (OSError, http.client.HTTPException) as err:
            counts.add("member submits", False, repr(err))
        stop.wait(0.25)


def secretary(base, phone, stop, counts):
    token = login(base, phone)
    client = Client(base)
    while not stop.is_set():
        try:
            status, body, _ = client.call("GET", "/api/v1/reviews?status=pending&limit=20", token=token)
            counts.add("secretary lists queue", status == 200, f"{status} {body}")
            items = (body or {}).get("items", []) if status == 200 else []
            items = [item for item in items if item["subject_kind"] == "visit"]
            for n, item in enumerate(items[:2]):
                decision = {"decision": "approve"} if n % 2 == 0 else {"decision": "return", "comment": "请补充照片"}
                status, body, _ = client.call("POST", f"/api/v1/visits/{item['subject_id']}/review",
                                              decision, token, {"Idempotency-Key": str(uuid.uuid4())})
                counts.add("secretary reviews", status == 200, f"{status} {body}")
        except (OSError, http.client.HTTPException) as err:
            counts.add("secretary reviews", False, repr(err))
        stop.wait(0.5)


def dashboard(base, stop, counts):
    token = login(base, ADMIN)
    client = Client(base)
    etags = {}
    paths = ["/api/v1/stats/overview", "/api/v1/stats/branches", "/api/v1/stats/timeseries?bucket=week"]
    while not stop.is_set():
        for path in paths:
            headers = {"If-None-Match": etags[path]} if path in etags else {}
            try:
                status, body, etag = client.call("GET", path, token=token, headers=headers)
                counts.add("dashboard polls", status in (200, 304), f"{path} {status} {body}")
                if etag:
                    etags[path] = etag
            except (OSError, http.client.HTTPException) as err:
                counts.add("dashboard polls", False, repr(err))
        stop.wait(1.0)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("soak: no VmRSS")


def main():
    seconds, pid, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    warm_up = min(60, seconds // 5)
    window = min(60, seconds // 5)
    stop = threading.Event()
    counts = Counts()
    threads = [threading.Thread(target=member, args=(base, p, stop, counts)) for p in MEMBERS]
    threads += [threading.Thread(target=secretary, args=(base, p, stop, counts)) for p in SECRETARIES]
    threads.append(threading.Thread(target=dashboard, args=(base, stop, counts)))
    for t in threads:
        t.start()
    started = time.monotonic()
    samples = []  # (seconds since start, KiB)
    while (elapsed := time.monotonic() - started) < seconds:
        samples.append((elapsed, rss_kib(pid)))
        time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    samples.append((time.monotonic() - started, rss_kib(pid)))

    baseline = statistics.median(k for t, k in samples if warm_up <= t < warm_up + window)
    final = statistics.median(k for t, k in samples if t >= seconds - window)
    growth = (final - baseline) / baseline
    total = sum(done for done, _ in counts.by_kind.values())
    print(f"soak: {seconds} s, {total} requests ({total / seconds:.0f}/s), errors {counts.error_count()}")
    for kind, (done, failed) in sorted(counts.by_kind.items()):
        print(f"  {kind:24} {done:7}  errors {failed}")
    print(f"  resident memory: {samples[0][1] / 1024:.1f} MiB at start, {baseline / 1024:.1f} MiB after "
          f"{warm_up} s warm-up, {final / 1024:.1f} MiB at the end, growth {growth * 100:+.1f} % "
          f"(limit {MAX_GROWTH * 100:.0f} %), peak {max(k for _, k in samples) / 1024:.1f} MiB")
    for error in counts.errors:
        print(f"  ! {error}")
    if counts.error_count() or growth >= MAX_GROWTH:
        print("soak: FAILED")
        sys.exit(1)
    print("soak: ok")


if __name__ == "__main__":
    main()
