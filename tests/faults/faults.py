#!/usr/bin/env python3
"""Fault tests: the debug server against a private PostgreSQL cluster and a
private Redis (never the machine's shared ones), with the faults a township's
deployment meets: the database stopping under traffic, Redis stopping, a
SIGTERM while requests are in flight, and a kill -9 in the middle of
submissions that the phones then retry with the same Idempotency-Key.

Each case prints requests sent, succeeded and failed, and rows lost (which
must be 0), and the run exits non-zero if any case's expectation fails.

Usage: tests/faults/faults.py [case ...]   (default: every case; see CASES)
Needs target/debug/xianfeng, PostgreSQL's binaries under
/usr/lib/postgresql/*/bin and redis-server. Run through tests/faults/run.
"""

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "target", "debug", "xianfeng")
LOGS = os.path.join(ROOT, "target", "faults")
PASSWORD = "xianfeng-demo"
ADMIN, SECRETARY, MEMBER = "13800000000", "13800000100", "13800000101"
JWT_SECRET = "fault-tests-signing-key-0123456789abcdef"
# Required on PostgreSQL: the key ID numbers are sealed with at rest.
ID_NUMBER_KEY = "82f94cf26508b2228a746188292e8c8c9e3453f348db633e87dd6e2c5bba40a4"

# A request must be answered within this while a dependency is down: the
# pool's acquire timeout (5 s) and a margin for a debug build on 2 cores.
ANSWER_BOUND_S = 10.0
# PostgreSQL or Redis is back: the service must be whole again within this.
RECOVERY_BOUND_S = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pick_port(preferred):
    return preferred if port_is_free(preferred) else free_port()


def as_postgres(args, **kwargs):
    """PostgreSQL refuses to run as root: run its tools as `postgres`."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    return subprocess.run(args, check=True, **kwargs)


class Postgres:
    """A throwaway cluster in a temporary directory, on its own port."""

    def __init__(self, port):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise SystemExit("faults: no PostgreSQL under /usr/lib/postgresql/*/bin")
        self.bin = bins[-1]
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="xf-faults-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(LOGS, "postgres.log")
        as_postgres(
            [f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            stdout=subprocess.DEVNULL,
        )
        self.url = f"postgres://postgres@127.0.0.1:{port}/xianfeng"

    def start(self):
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres(
            [f"{self.bin}/pg_ctl", "-D", self.data, "-o", opts, "-l", "/dev/null", "-w", "start"],
            stdout=subprocess.DEVNULL,
        )

    def stop(self):
        as_postgres(
            [f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
            stdout=subprocess.DEVNULL,
        )

    def running(self):
        status = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        status += [f"{self.bin}/pg_ctl", "-D", self.data, "status"]
        return subprocess.run(status, stdout=subprocess.DEVNULL).returncode == 0

    def psql(self, database, sql):
        out = as_postgres(
            [f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-Atqc", sql],
            capture_output=True, text=True,
        )
        return out.stdout.strip()

    def recreate(self, database="xianfeng"):
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.psql("postgres", f'CREATE DATABASE "{database}"')

    def destroy(self):
        if self.running():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self, port):
        self.port = port
        self.process = None
        self.url = f"redis://127.0.0.1:{port}"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise SystemExit("faults: redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Server:
    """The debug binary, serving on its own port."""

    def __init__(self, name, database_url, redis_url=None):
        self.name = name
        self.port = free_port()
        self.base = ("127.0.0.1", self.port)
        self.data_dir = tempfile.mkdtemp(prefix="xf-faults-data-")
        self.env = {
            k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ID_NUMBER_KEY")
        }
        self.env.update(
            DATA_DIR=self.data_dir,
            BIND_ADDR=f"127.0.0.1:{self.port}",
            DATABASE_URL=database_url,
            JWT_SECRET=JWT_SECRET,
            ID_NUMBER_KEY=ID_NUMBER_KEY,
            RUST_LOG="warn",
            WORKERS="2",
            LOGIN_MAX_FAILURES_PER_CLIENT="100000",
        )
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(os.path.join(LOGS, f"server-{self.name}-{self.starts}.log"), "w")
        self.process = subprocess.Popen([BINARY, "serve", "--demo"], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"faults: the server exited; see {log.name}")
            try:
                if request(self, "GET", "/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("faults: the server did not start")

    def signal(self, sig):
        self.process.send_signal(sig)

    def wait(self, timeout=60):
        return self.process.wait(timeout=timeout)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def request(server, method, path, body=None, token=None, headers=None, timeout=30.0):
    """One request on a fresh connection: (status, decoded JSON or None, seconds)."""
    conn = http.client.HTTPConnection(*server.base, timeout=timeout)
    sent = dict(headers or {})
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    try:
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = None
    return response.status, decoded, elapsed


def login(server, phone):
    status, body, _ = request(server, "POST", "/api/v1/auth/login",
                              {"phone": phone, "password": PASSWORD})
    if status != 200:
        raise SystemExit(f"faults: login {phone} answered {status}: {body}")
    return body["access_token"]


def first_household(server, token):
    status, body, _ = request(server, "GET", "/api/v1/me/households", token=token)
    if status != 200 or not body["items"]:
        raise SystemExit(f"faults: the member has no household ({status})")
    return body["items"][0]


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Submission:
    """A visit as a phone keeps it until the server answers: body and key."""

    def __init__(self, household, tag):
        self.key = str(uuid.uuid4())
        self.tag = tag
        location = household.get("location") or {"lat": 30.276, "lng": 120.153}
        self.body = {
            "household_id": household["id"],
            "kind": "assistance",
            "visited_at": now_rfc3339(),
            "location": {"lat": location["lat"], "lng": location["lng"], "accuracy_m": 10},
            "summary": f"故障演练走访 {tag}",
        }
        self.answer = None

    def send(self, server, token, timeout=30.0):
        return request(server, "POST", "/api/v1/visits", self.body, token,
                       {"Idempotency-Key": self.key}, timeout=timeout)


class Tally:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.sent = self.succeeded = self.failed = 0
        self.rows_lost = 0
        self.problems = []

    def count(self, ok):
        with self.lock:
            self.sent += 1
            if ok:
                self.succeeded += 1
            else:
                self.failed += 1

    def expect(self, condition, message):
        if not condition:
            with self.lock:
                self.problems.append(message)

    def report(self):
        verdict = "ok" if not self.problems and self.rows_lost == 0 else "FAILED"
        print(f"[{self.name}] requests sent {self.sent}, succeeded {self.succeeded}, "
              f"failed {self.failed}, rows lost {self.rows_lost}: {verdict}")
        for problem in self.problems[:20]:
            print(f"    - {problem}")
        if len(self.problems) > 20:
            print(f"    … and {len(self.problems) - 20} more")
        return verdict == "ok"


def rows_by_tag(pg, prefix):
    """How many visits hold each submission's tag."""
    out = pg.psql("xianfeng", "SELECT summary, count(*) FROM visits "
                  f"WHERE summary LIKE '故障演练走访 {prefix}%' GROUP BY summary")
    counts = {}
    for line in filter(None, out.splitlines()):
        summary, n = line.rsplit("|", 1)
        counts[summary.removeprefix("故障演练走访 ")] = int(n)
    return counts


def check_exactly_once(tally, pg, submissions, prefix):
    counts = rows_by_tag(pg, prefix)
    for s in submissions:
        n = counts.get(s.tag, 0)
        if n == 0 and s.answer == 201:
            tally.rows_lost += 1
        tally.expect(n == 1, f"{s.tag}: {n} rows, expected exactly 1")


# --- the cases ---------------------------------------------------------------


def postgres_stopped(pg, redis):
    """PostgreSQL stops under traffic: every request is answered 503
    `unavailable` within the bound, /readyz fails, and once PostgreSQL is
    back the service recovers by itself; the submissions refused meanwhile
    are retried and each exists once."""
    tally = Tally("postgres stopped under traffic")
    pg.recreate()
    server = Server("postgres-stopped", pg.url)
    server.start()
    try:
        member = login(server, MEMBER)
        household = first_household(server, member)
        stop = threading.Event()
        phase = {"name": "before"}
        records = []  # (phase, path, status, code, seconds)
        submissions = []
        lock = threading.Lock()

        def traffic(worker):
            n = 0
            while not stop.is_set():
                n += 1
                current = phase["name"]
                if n % 2:
                    s = Submission(household, f"pg-{worker}-{n}")
                    with lock:
                        submissions.append(s)
                    path, call = "/api/v1/visits", lambda: s.send(server, member, timeout=30)
                else:
                    path, call = "/api/v1/me/households", lambda: request(
                        server, "GET", "/api/v1/me/households", token=member, timeout=30)
                try:
                    status, body, seconds = call()
                    code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
                except OSError as err:
                    status, code, seconds = None, type(err).__name__, 30.0
                if path == "/api/v1/visits" and status in (200, 201):
                    s.answer = 201
                with lock:
                    records.append((current, phase["name"], path, status, code, seconds))
                tally.count(status is not None and status < 400)
                time.sleep(0.05)

        workers = [threading.Thread(target=traffic, args=(w,)) for w in range(4)]
        for w in workers:
            w.start()
        time.sleep(3)
        # A request sent while PostgreSQL shuts down may still commit: the
        # outage starts when pg_ctl says it has stopped.
        phase["name"] = "stopping"
        pg.stop()
        phase["name"] = "down"
        time.sleep(1)
        status, body, seconds = request(server, "GET", "/readyz", timeout=30)
        tally.count(status == 200)
        tally.expect(status == 503 and body.get("database") == "down",
                     f"/readyz with PostgreSQL down answered {status} {body}")
        tally.expect(seconds <= ANSWER_BOUND_S, f"/readyz took {seconds:.1f} s")
        time.sleep(9)
        phase["name"] = "restarting"
        pg.start()
        restarted = time.monotonic()
        recovered_after = None
        while time.monotonic() - restarted < RECOVERY_BOUND_S:
            status, _, _ = request(server, "GET", "/readyz", timeout=30)
            if status == 200:
                ok = request(server, "GET", "/api/v1/me/households", token=member)[0] == 200
                if ok:
                    recovered_after = time.monotonic() - restarted
                    break
            time.sleep(0.5)
        phase["name"] = "after"
        tally.expect(recovered_after is not None,
                     f"not recovered {RECOVERY_BOUND_S:.0f} s after PostgreSQL came back")
        time.sleep(3)
        stop.set()
        for w in workers:
            w.join()

        # Sent and answered while PostgreSQL was down: 503 `unavailable`, in time.
        down = [r for r in records if r[0] == "down" and r[1] == "down"]
        tally.expect(len(down) > 0, "no request was made while PostgreSQL was down")
        for started, _, path, status, code, seconds in down:
            tally.expect(status == 503 and code == "unavailable",
                         f"{path} with PostgreSQL down answered {status} {code}")
            tally.expect(seconds <= ANSWER_BOUND_S, f"{path} took {seconds:.1f} s with PostgreSQL down")
        after = [r for r in records if r[0] == "after"]
        tally.expect(after and all(r[3] is not None and r[3] < 400 for r in after),
                     f"after recovery: {[r[3] for r in after if r[3] is None or r[3] >= 400][:5]}")

        # The phones retry what was refused, with the same key.
        for s in submissions:
            if s.answer != 201:
                status, _, _ = s.send(server, member)
                tally.count(status in (200, 201))
                tally.expect(status in (200, 201), f"retry of {s.tag} answered {status}")
                if status in (200, 201):
                    s.answer = 201
        check_exactly_once(tally, pg, submissions, "pg-")
        print(f"    {len(down)} requests during the outage, the slowest answered in "
              f"{max((r[5] for r in down), default=0):.2f} s; recovered "
              f"{(recovered_after or 0):.1f} s after PostgreSQL was back")
    finally:
        server.stop()
        if not pg.running():
            pg.start()
    return tally.report()


def redis_stopped(pg, redis):
    """Redis stops: submissions still succeed, /readyz says `degraded`, and the
    secretary's notifications arrive once Redis is back."""
    tally = Tally("redis stopped")
    pg.recreate()
    redis.start()
    server = Server("redis-stopped", pg.url, redis.url)
    server.start()
    try:
        member = login(server, MEMBER)
        secretary = login(server, SECRETARY)
        household = first_household(server, member)

        def unread():
            status, body, _ = request(server, "GET", "/api/v1/notifications/unread-count",
                                      token=secretary)
            tally.count(status == 200)
            return body.get("count", body.get("unread")) if status == 200 else None

        # Let the demo's own notifications settle first.
        time.sleep(2)
        before = unread()
        redis.stop()
        time.sleep(0.5)
        status, body, seconds = request(server, "GET", "/readyz", timeout=30)
        tally.count(status == 200)
        tally.expect(status == 200 and body.get("status") == "degraded" and body.get("redis") == "down",
                     f"/readyz with Redis down answered {status} {body}")
        submissions = [Submission(household, f"redis-{n}") for n in range(10)]
        for s in submissions:
            status, body, seconds = s.send(server, member, timeout=30)
            tally.count(status == 201)
            tally.expect(status == 201, f"submission with Redis down answered {status} {body}")
            tally.expect(seconds <= ANSWER_BOUND_S, f"submission with Redis down took {seconds:.1f} s")
            if status == 201:
                s.answer = 201
        redis.start()
        restarted = time.monotonic()
        caught_up = None
        while time.monotonic() - restarted < RECOVERY_BOUND_S:
            now = unread()
            if before is not None and now is not None and now >= before + len(submissions):
                caught_up = time.monotonic() - restarted
                break
            time.sleep(0.5)
        tally.expect(caught_up is not None,
                     f"the secretary's unread count went {before} → {unread()}, "
                     f"expected +{len(submissions)} within {RECOVERY_BOUND_S:.0f} s of Redis returning")
        status, body, _ = request(server, "GET", "/readyz")
        tally.count(status == 200)
        tally.expect(status == 200 and body.get("status") == "ok", f"/readyz after Redis returned: {status} {body}")
        check_exactly_once(tally, pg, submissions, "redis-")
        if caught_up is not None:
            print(f"    notifications caught up {caught_up:.1f} s after Redis was back")
    finally:
        server.stop()
        redis.stop()
    return tally.report()


def sigterm_in_flight(pg, redis):
    """SIGTERM while submissions are half sent: each is finished and answered."""
    tally = Tally("SIGTERM under load")
    pg.recreate()
    server = Server("sigterm", pg.url)
    server.start()
    try:
        member = login(server, MEMBER)
        household = first_household(server, member)
        submissions = [Submission(household, f"term-{n}") for n in range(24)]
        half_sent = threading.Barrier(len(submissions) + 1)

        def submit(s):
            payload = json.dumps(s.body).encode()
            head = (f"POST /api/v1/visits HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {member}\r\nIdempotency-Key: {s.key}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                    f"Connection: close\r\n\r\n").encode()
            status = None
            try:
                with socket.create_connection(server.base, timeout=40) as sock:
                    sock.sendall(head + payload[: len(payload) // 2])
                    half_sent.wait()
                    time.sleep(1.5)  # the signal lands while the body is unfinished
                    sock.sendall(payload[len(payload) // 2:])
                    answer = b""
                    while chunk := sock.recv(65536):
                        answer += chunk
                status = int(answer.split(b" ", 2)[1]) if answer else None
            except (OSError, threading.BrokenBarrierError, ValueError, IndexError) as err:
                tally.expect(False, f"{s.tag}: {type(err).__name__} {err}")
            tally.count(status == 201)
            tally.expect(status == 201, f"{s.tag} in flight at SIGTERM answered {status}")
            if status == 201:
                s.answer = 201

        threads = [threading.Thread(target=submit, args=(s,)) for s in submissions]
        for t in threads:
            t.start()
        half_sent.wait()
        # In flight: accepted by the server and reading its body. A connection
        # still in the kernel's backlog when the listener closes is refused, as
        # with any server; give the accept loop a moment on a busy machine.
        time.sleep(1.0)
        server.signal(signal.SIGTERM)
        for t in threads:
            t.join()
        code = server.wait(timeout=60)
        tally.expect(code == 0, f"the server exited with {code} after SIGTERM")
        check_exactly_once(tally, pg, submissions, "term-")
    finally:
        server.stop()
    return tally.report()


def kill9_and_retry(pg, redis):
    """kill -9 in the middle of submissions; the phones retry what was not
    answered with the same key: each submission exists exactly once, and a
    retry of an answered one answers the same visit."""
    tally = Tally("kill -9 during submissions")
    pg.recreate()
    server = Server("kill9", pg.url)
    server.start()
    try:
        member = login(server, MEMBER)
        household = first_household(server, member)
        submissions = []
        ids = {}
        lock = threading.Lock()
        killed = threading.Event()

        def phone(worker):
            n = 0
            while not killed.is_set():
                n += 1
                s = Submission(household, f"kill-{worker}-{n}")
                with lock:
                    submissions.append(s)
                try:
                    status, body, _ = s.send(server, member, timeout=30)
                except OSError:
                    status, body = None, None
                tally.count(status == 201)
                if status == 201:
                    s.answer = 201
                    ids[s.tag] = body["id"]

        phones = [threading.Thread(target=phone, args=(w,)) for w in range(6)]
        for p in phones:
            p.start()
        time.sleep(4)
        server.process.kill()
        server.process.wait()
        killed.set()
        for p in phones:
            p.join()
        answered_before = sum(1 for s in submissions if s.answer == 201)
        server.start()
        # Every phone retries what it never heard back about, and one answered
        # submission in five again (a lost answer looks the same to a phone).
        replays = 0
        for i, s in enumerate(submissions):
            if s.answer == 201 and i % 5:
                continue
            status, body, _ = s.send(server, member)
            tally.count(status in (200, 201))
            tally.expect(status in (200, 201), f"retry of {s.tag} answered {status} {body}")
            if status in (200, 201):
                if s.tag in ids:
                    replays += 1
                    tally.expect(body["id"] == ids[s.tag], f"retry of {s.tag} answered another visit")
                s.answer = 201
        check_exactly_once(tally, pg, submissions, "kill-")
        print(f"    {len(submissions)} submissions, {answered_before} answered before the kill, "
              f"{len(submissions) - answered_before} retried after it, {replays} answered ones replayed")
    finally:
        server.stop()
    return tally.report()


CASES = {
    "postgres": postgres_stopped,
    "redis": redis_stopped,
    "sigterm": sigterm_in_flight,
    "kill9": kill9_and_retry,
}


def main():
    chosen = sys.argv[1:] or list(CASES)
    unknown = [c for c in chosen if c not in CASES]
    if unknown:
        raise SystemExit(f"faults: unknown case {unknown}; cases: {', '.join(CASES)}")
    os.makedirs(LOGS, exist_ok=True)
    pg = Postgres(pick_port(55432))
    redis = Redis(pick_port(56379))
    pg.start()
    results = {}
    try:
        for name in chosen:
            started = time.monotonic()
            results[name] = CASES[name](pg, redis)
            print(f"    ({name}: {time.monotonic() - started:.0f} s)")
    finally:
        redis.stop()
        pg.destroy()
    failed = [name for name, ok in results.items() if not ok]
    if failed:
        print(f"faults: FAILED: {', '.join(failed)} (server logs in {LOGS})")
        sys.exit(1)
    print("faults: every case held")


if __name__ == "__main__":
    main()
