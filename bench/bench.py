#!/usr/bin/env python3
"""`make bench`: drive the release server with wrk and write BENCHMARKS.md.

Run through bench/run.sh, which builds the release app and the ceiling example and installs wrk
(and PostgreSQL when asked) first. Standard library only. Everything listens on 127.0.0.1 only.

Steps: dashboard sizes; cold start to ready (fresh empty database, migrations included); a fresh
database seeded through the operator CLI (10,000 live inventory numbers in US, GB and NG; one
organization with a live API key) and 1,000 numbers bought through the API; then each scenario at
1 and at 64 connections (warm-up first, then a measured run), and the ceiling: a bare axum server
answering the captured list-assigned body from memory. Before the load, Lighthouse on four
dashboard pages (bench/lighthouse.py). Results go to bench/out/results-<db>.json and into
BENCHMARKS.md between this backend's markers (the rest of the file is left alone).
"""

import argparse
import datetime
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

import lighthouse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# BENCH_BIN: another build of the server to measure (an A/B against an older binary, by hand).
BIN = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "target", "release", "kros-numbers")
CEILING_BIN = os.path.join(ROOT, "target", "release", "examples", "ceiling")
SITE_ROOT = os.path.join(ROOT, "target", "site")
PKG_DIR = os.path.join(SITE_ROOT, "pkg")
LUA = os.path.join(ROOT, "bench", "wrk", "scenario.lua")

# The server-rendered page to measure: the dashboard's numbers page (`/`), signed in as a user of
# the benchmark organization (see `page_session_cookie`). BENCH_PAGE_PATH measures another page.
PAGE_PATH = os.environ.get("BENCH_PAGE_PATH", "/")
BENCH_USER_EMAIL, BENCH_USER_PASSWORD = "bench@kros.local", "bench-password-2026"

CONNECTION_LEVELS = (1, 64)
# The machine is shared with other work (compilers): the server, the ceiling, PostgreSQL and wrk
# run at this niceness so that background jobs disturb the measurement less (needs root; without
# it everything runs at the normal priority). BENCH_NICE=0 turns it off.
NICE = int(os.environ.get("BENCH_NICE", "-10"))
OWNED_NUMBERS = 1000

# The budget of issue 5.
BUDGET_LIST_SHARE = 0.5          # list assigned, 64 connections: share of the ceiling's req/s
BUDGET_LIST_P99_OVER_P50 = 5.0
BUDGET_PURCHASES_PER_S = 1000.0
BUDGET_RSS_MB = 100.0
# What a page's first load may fetch (gzip), by page: the sign-in form needs no wasm at all, the
# numbers page is the first one a visit sees; every other page.
BUDGET_FIRST_LOAD_GZIP_BYTES = {"/sign-in": 20 * 1000, "/": 150 * 1000}
BUDGET_OTHER_PAGE_GZIP_BYTES = 200 * 1000
# The pages whose first load is measured: (path, signed in). `{number_id}`: a number the seed bought;
# `{hold_id}`: a number held for a purchase (the buy page with its confirmation open).
BUNDLE_PAGES = [("/sign-in", False), ("/", True), ("/buy?country=US", True), ("/buy?country=US&hold={hold_id}", True),
                ("/numbers/{number_id}", True), ("/api-keys", True), ("/endpoints", True), ("/webhooks", True)]
BUDGET_COLD_START_MS = 1000.0
# Lighthouse's budget (performance >= 95, accessibility 100, best practices >= 95): lighthouse.BUDGET.

# The pages Lighthouse measures: (name, path, signed in). `{number_id}`: a number the seed bought.
LIGHTHOUSE_PAGES = [
    ("sign-in", "/sign-in", False),
    ("numbers", "/", True),
    ("buy", "/buy?country=US", True),
    ("number", "/numbers/{number_id}", True),
]


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Small helpers


def prioritized():
    """preexec_fn for the measured processes (see NICE)."""
    if NICE:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, NICE)
        except OSError:
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(cmd, env=None, check=True):
    """Runs a command; returns the last line of its stdout (the CLI's result line)."""
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    return lines[-1].strip() if lines else ""


class Http:
    """One keep-alive connection to 127.0.0.1."""

    def __init__(self, port, key=None):
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None):
        headers = {}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, ConnectionError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def json(self, method, path, body=None, expect=(200,)):
        status, raw = self.request(method, path, body)
        if status not in expect:
            raise SystemExit(f"{method} {path}: expected {expect}, got {status}: {raw[:500]!r}")
        return json.loads(raw) if raw else None


def wait_ready(port, proc, timeout_s=30.0, path="/readyz"):
    """Polls until `path` answers 200; returns the seconds it took."""
    start = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the process exited with {proc.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return time.monotonic() - start
            conn.close()
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        if time.monotonic() - start > timeout_s:
            raise SystemExit(f"not ready on port {port} after {timeout_s} s")
        time.sleep(0.002)


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def proc_status(pid, field):
    """A field of /proc/PID/status in kB (VmHWM, VmRSS)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------------------------
# Machine and build facts


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = [l for l in subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                           capture_output=True, text=True).stdout.splitlines()
                 if not l.endswith("BENCHMARKS.md")]  # this report itself does not count
        if dirty:
            commit += " (with uncommitted changes)"
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wrk": wrk_version,
        "kernel": os.uname().release,
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def pkg_file_sizes(name):
    path = os.path.join(PKG_DIR, name)
    with open(path, "rb") as f:
        raw = f.read()
    # What the server sends a browser that accepts brotli: the `.br` file `--precompress` wrote.
    br = os.path.getsize(path + ".br") if os.path.exists(path + ".br") else len(raw)
    return {"raw": len(raw), "gzip": len(gzip.compress(raw, compresslevel=9)), "br": br}


# The files of `target/site/pkg` a server-rendered page makes the browser fetch: its stylesheet,
# the JS glue and the main wasm (preloaded), the split loader the JS glue imports, and the wasm
# chunks of the page's lazy islands (`--split`: the manifest lists each island's chunks; the
# island script fetches them when it meets the island).
PKG_REF = re.compile(r"/pkg/([A-Za-z0-9_.\-]+)")
JS_IMPORT = re.compile(r"""from\s*['"]\./([A-Za-z0-9_.\-]+\.js)['"]""")
ISLAND = re.compile(r'<leptos-island data-component="([A-Za-z0-9]+)_[0-9]+"')


def island_chunks(html):
    """The wasm chunks of the lazy islands on the page (`CopyButton` -> `copy_button_loader_*`)."""
    path = os.path.join(PKG_DIR, "__wasm_split_manifest.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    chunks = set()
    for island in set(ISLAND.findall(html)):
        loader = re.sub(r"(?<!^)([A-Z])", r"_\1", island).lower() + "_loader_"
        for key, names in manifest.items():
            if key.startswith(loader):
                chunks.update(f"{name}.wasm" for name in names)
    return sorted(chunks)


def page_label(path):
    """The page as the report names it: the same in every run (no ids)."""
    path = re.sub(r"^/numbers/[0-9a-f-]+$", "/numbers/{id}", path)
    return re.sub(r"hold=[0-9a-f-]+", "hold={id}", path)


def page_bundle(port, path, cookie):
    """What loading `path` fetches from /pkg: each file with its raw and gzip -9 size."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    resp = conn.getresponse()
    html = resp.read().decode("utf-8", "replace")
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"GET {path} answered {resp.status}, not the page")
    names = sorted(set(PKG_REF.findall(html)) | set(island_chunks(html)))
    for name in list(names):
        if name.endswith(".js"):
            with open(os.path.join(PKG_DIR, name), encoding="utf-8") as f:
                names += [m for m in JS_IMPORT.findall(f.read()) if m not in names]
    files = {name: pkg_file_sizes(name) for name in sorted(names)}
    total = {k: sum(f[k] for f in files.values()) for k in ("raw", "gzip", "br")}
    return {"path": path, "files": files, "total": total}


# ----------------------------------------------------------------------------------------------
# Databases


class Database:
    """Fresh databases for one backend: `url(name)` gives a new, empty one."""

    def __init__(self, kind, out_dir):
        self.kind, self.out_dir, self.pg_dir, self.server = kind, out_dir, None, None
        if kind == "postgres":
            self.pg_dir = os.path.join(out_dir, "pg")
            shutil.rmtree(self.pg_dir, ignore_errors=True)
            port = free_port()
            self.server = sh([os.path.join(ROOT, "scripts", "pg.sh"), "start", self.pg_dir, str(port)])
            log(f"PostgreSQL at {self.server}")
            if NICE:
                # Backends fork from the postmaster and inherit its niceness.
                with open(os.path.join(self.pg_dir, "postmaster.pid")) as f:
                    postmaster = int(f.readline())
                pids = [postmaster] + [int(p) for p in subprocess.run(
                    ["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()]
                for pid in pids:
                    try:
                        os.setpriority(os.PRIO_PROCESS, pid, NICE)
                    except OSError:
                        pass

    def url(self, name):
        if self.kind == "sqlite":
            path = os.path.join(self.out_dir, f"{name}.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            # An empty file, as CREATE DATABASE is on PostgreSQL: `serve` never creates one.
            open(path, "w").close()
            return f"sqlite://{path}"
        admin = f"{self.server}/postgres"
        subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {name}"], check=True,
                       capture_output=True)
        subprocess.run(["psql", "-q", admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return f"{self.server}/{name}"

    def close(self):
        if self.pg_dir:
            subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.pg_dir], cwd=ROOT)
            shutil.rmtree(self.pg_dir, ignore_errors=True)


def server_env(database_url):
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "LEPTOS_SITE_ROOT": SITE_ROOT,
        "LEPTOS_ENV": "PROD",
        "KROS_RATE_LIMIT_PER_SECOND": "0",
    })
    # Built-in accounts only: no Supabase project is involved in a run.
    for var in ("SUPABASE_URL", "SUPABASE_JWKS_URL", "SUPABASE_JWT_SECRET", "SUPABASE_PUBLISHABLE_KEY",
                "SUPABASE_ANON_KEY", "LEPTOS_SITE_ADDR", "KROS_JWT_AUTO_CREATE_USERS"):
        env.pop(var, None)
    return env


def start_server(database_url, port, log_path):
    logf = open(log_path, "w")
    return subprocess.Popen([BIN, "serve", "--addr", f"127.0.0.1:{port}"], env=server_env(database_url),
                            cwd=ROOT, stdout=logf, stderr=subprocess.STDOUT, preexec_fn=prioritized)


# ----------------------------------------------------------------------------------------------
# Seed data


def inventory_rows():
    """10,000 numbers valid for their country (libphonenumber), in three countries."""
    blocks = [
        # (country, type, prefix, digits to append, how many, setup, monthly, currency)
        ("US", "local", "+1415823", 4, 2500, 100, 115, "USD"),
        ("US", "local", "+1646934", 4, 2500, 100, 115, "USD"),
        ("GB", "local", "+44207183", 4, 2000, 150, 300, "GBP"),
        ("GB", "mobile", "+4474001", 5, 1500, 200, 450, "GBP"),
        ("NG", "mobile", "+234803123", 4, 1000, 500, 1200, "NGN"),
        ("NG", "local", "+234201280", 4, 500, 500, 900, "NGN"),
    ]
    rows = []
    for country, kind, prefix, digits, count, setup, monthly, currency in blocks:
        for i in range(count):
            rows.append((f"{prefix}{i:0{digits}d}", country, kind, setup, monthly, currency))
    return rows


def seed(database_url, out_dir):
    env = server_env(database_url)
    sh([BIN, "migrate"], env=env)
    org = sh([BIN, "org", "create", "Benchmark Org"], env=env)
    key = sh([BIN, "key", "create", "--org", org, "--mode", "live", "--name", "bench"], env=env)
    csv_path = os.path.join(out_dir, "inventory.csv")
    rows = inventory_rows()
    with open(csv_path, "w") as f:
        f.write("e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    imported = sh([BIN, "inventory", "import", csv_path, "--mode", "live"], env=env)
    if imported != f"imported {len(rows)}":
        raise SystemExit(f"inventory import: expected {len(rows)} numbers, got {imported!r}")
    user = sh([BIN, "user", "create", BENCH_USER_EMAIL, "--password", BENCH_USER_PASSWORD, "--org", org], env=env)
    return org, key, user, len(rows)


def inventory_ids(api):
    ids = []
    for country in ("US", "GB", "NG"):
        offset = 0
        while True:
            page = api.json("GET", f"/v1/phone-numbers?action=available&country={country}&limit=100&offset={offset}")
            ids += [n["id"] for n in page["data"]]
            offset += 100
            if offset >= page["total"]:
                break
    return ids


# ----------------------------------------------------------------------------------------------
# wrk


def run_wrk(url, conns, seconds, env_extra, out_file):
    threads = 1 if conns == 1 else min(conns, os.cpu_count() or 1)
    env = dict(os.environ)
    env.update(env_extra)
    env["BENCH_THREADS"] = str(threads)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s", LUA, url]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60,
                          preexec_fn=prioritized)
    with open(out_file, "w") as f:
        f.write(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise SystemExit(f"wrk printed no result (see {out_file}):\n{proc.stdout}\n{proc.stderr}")


def summarize(raw, purchase=False):
    socket_errors = raw["err_connect"] + raw["err_read"] + raw["err_write"] + raw["err_timeout"]
    r = {
        "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
        "socket_errors": int(socket_errors),
    }
    if purchase:
        active_s = raw["active_us"] / 1e6 if raw["active_us"] else raw["duration_us"] / 1e6
        answered = raw["c201"] + raw["c409"] + raw["cother"]
        r.update({
            "requests": int(answered), "seconds": active_s, "rps": answered / active_s if active_s else 0,
            "purchases_per_s": raw["c201"] / active_s if active_s else 0,
            "c201": int(raw["c201"]), "c409": int(raw["c409"]), "other": int(raw["cother"]),
            "other_statuses": raw.get("other_statuses", "").strip(),
            "errors": int(raw["cother"]) + int(socket_errors),
            # Sent but not answered by the end of the run: at most one per connection normally; all
            # of them when the server stopped answering (counted as errors then).
            "unanswered": int(raw["sent"] - answered),
        })
        if answered == 0 and raw["sent"] > 0:
            r["errors"] += int(raw["sent"])
    else:
        seconds = raw["duration_us"] / 1e6
        r.update({
            "requests": int(raw["requests"]), "seconds": seconds, "rps": raw["requests"] / seconds,
            "errors": int(raw["err_status"]) + int(socket_errors),
        })
    return r


# ----------------------------------------------------------------------------------------------
# The dashboard page


def page_session_cookie(port):
    """The Cookie header of a dashboard session for the benchmark user, from signing in.

    Signs in as a browser does: the sign-in page's form (its action is the sign-in server
    function), posted with the user's email and password; the answer sets `kros_session`, a
    built-in session that every page request checks (signature and session row).
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/sign-in")
    page = conn.getresponse().read().decode()
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": BENCH_USER_EMAIL, "password": BENCH_USER_PASSWORD, "next": "/"})
    conn.request("POST", action, body=form, headers={
        "content-type": "application/x-www-form-urlencoded", "accept": "text/html"})
    answer = conn.getresponse()
    answer.read()
    for name, value in answer.getheaders():
        if name.lower() == "set-cookie" and value.startswith("kros_session="):
            return value.split(";", 1)[0]
    raise SystemExit(f"signing in as {BENCH_USER_EMAIL} failed: {answer.status}")


def lighthouse_pages(port, cookie, number_id, out_dir, runs):
    """Lighthouse on LIGHTHOUSE_PAGES, signed in through the session cookie where the page needs it."""
    reason = lighthouse.unavailable()
    if reason:
        log(f"Lighthouse NOT RUN: {reason}")
        return {"unavailable": reason}
    info = {"version": lighthouse.version(), "chrome": lighthouse.chrome_version(), "runs": runs, "pages": []}
    log(f"Lighthouse {info['version']} ({info['chrome']}), {runs} run(s) per page")
    for name, template, signed_in in LIGHTHOUSE_PAGES:
        path = template.format(number_id=number_id)
        result = lighthouse.measure(name, f"http://127.0.0.1:{port}{path}", cookie if signed_in else None,
                                    os.path.join(out_dir, "lighthouse"), runs, preexec_fn=prioritized)
        # `page`: the path as the report shows it, the same in every run (no number id).
        result.update(path=path, page=template.replace("{number_id}", "{id}"), signed_in=signed_in)
        info["pages"].append(result)
        log(lighthouse.describe(result))
    return info


def check_page(port, cookie):
    """The page's status and size as measured (a redirect here would mean the session is refused)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", PAGE_PATH, headers={"Cookie": cookie} if cookie else {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, len(body), resp.getheader("location")


# ----------------------------------------------------------------------------------------------
# The run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "5")),
                        help="seconds measured per scenario and connection count")
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", "2")),
                        help="seconds of warm-up before each measured run")
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    parser.add_argument("--markdown", default=os.path.join(ROOT, "BENCHMARKS.md"),
                        help="file to write the table into ('' to skip)")
    parser.add_argument("--only", default="", help="comma-separated scenarios, `lighthouse` among them (development)")
    parser.add_argument("--lighthouse-runs", type=int, default=int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", "3")),
                        help="Lighthouse runs per page (the median's is kept); 0 skips Lighthouse")
    args = parser.parse_args()

    for path in (BIN, CEILING_BIN, LUA):
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}: run bench/run.sh (make bench)")
    out_dir = os.path.join(args.out, args.db)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    if args.db == "postgres":
        os.chmod(out_dir, 0o755)

    results = {"db": args.db, "machine": machine(), "load_before": loadavg(), "duration_s": args.duration, "nice": NICE,
               "warmup_s": args.warmup, "page_path": PAGE_PATH}
    log(f"machine: {results['machine']}; load average {results['load_before']}")

    db = Database(args.db, out_dir)
    server = ceiling = None
    try:
        # Cold start to ready: spawn to the first 200 from /readyz on a fresh, empty database.
        cold = []
        for i in range(args.cold_starts):
            url = db.url(f"kros_cold_{i}")
            port = free_port()
            proc = start_server(url, port, os.path.join(out_dir, f"cold-{i}.log"))
            try:
                cold.append(wait_ready(port, proc) * 1000)
            finally:
                stop(proc)
        results["cold_start_ms"] = cold
        log(f"cold start to ready (ms): {', '.join(f'{c:.0f}' for c in cold)}")

        # The measured database.
        database_url = db.url("kros_bench")
        org, key, user_id, inventory_count = seed(database_url, out_dir)
        port = free_port()
        server = start_server(database_url, port, os.path.join(out_dir, "server.log"))
        wait_ready(port, server)
        api = Http(port, key)
        ids = inventory_ids(api)
        if len(ids) != inventory_count:
            raise SystemExit(f"expected {inventory_count} inventory ids, listed {len(ids)}")
        owned_inventory = set(ids[:: len(ids) // OWNED_NUMBERS][:OWNED_NUMBERS])
        log(f"buying {len(owned_inventory)} numbers through the API")
        owned = [api.json("POST", "/v1/phone-numbers", {"inventory_id": i}, expect=(201,))["id"]
                 for i in sorted(owned_inventory)]
        if args.db == "postgres":
            # Steady state, as autovacuum would leave it: statistics for the planner and a visibility
            # map for index-only scans after the bulk import and purchases.
            subprocess.run(["psql", "-q", database_url, "-c", "VACUUM ANALYZE"], check=True, capture_output=True)
        pool = [i for i in ids if i not in owned_inventory]
        random.Random(5).shuffle(pool)
        number_id = owned[len(owned) // 2]
        status, list_body = api.request("GET", "/v1/phone-numbers?limit=20")
        assert status == 200 and json.loads(list_body)["total"] == OWNED_NUMBERS, list_body[:300]
        body_file = os.path.join(out_dir, "list-assigned-body.json")
        with open(body_file, "wb") as f:
            f.write(list_body)
        with open(os.path.join(out_dir, "setup.json"), "w") as f:  # for profiling by hand
            json.dump({"database_url": database_url, "key": key, "organization_id": org, "number_id": number_id}, f)
        results["seed"] = {"inventory": inventory_count, "owned": len(owned), "purchase_pool": len(pool),
                           "list_assigned_body_bytes": len(list_body)}

        ceiling_port = free_port()
        ceiling = subprocess.Popen([CEILING_BIN, body_file, f"127.0.0.1:{ceiling_port}"], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=prioritized)
        wait_ready(ceiling_port, ceiling, path="/")

        base = f"http://127.0.0.1:{port}"
        cookie = page_session_cookie(port)
        page_status, page_bytes, page_location = check_page(port, cookie)
        results["page"] = {"path": PAGE_PATH, "status": page_status, "bytes": page_bytes, "location": page_location}
        # The dashboard's first page: sign-in for a new visitor, the numbers page once signed in.
        # A number held as the confirmation holds it, let go once measured (the purchase pool stays whole).
        api = Http(port, key)
        hold_id = api.json("POST", "/v1/number-reservations", {"country": "US", "quantity": 1}, expect=(201,))["id"]
        results["bundles"] = [page_bundle(port, path.format(number_id=number_id, hold_id=hold_id),
                                          cookie if signed_in else None)
                              for path, signed_in in BUNDLE_PAGES]
        api.json("DELETE", f"/v1/number-reservations/{hold_id}", expect=(200, 204))
        log(f"page {PAGE_PATH}: {page_status}, {page_bytes} bytes" + (f", to {page_location}" if page_location else ""))
        only = set(filter(None, args.only.split(",")))
        # Before the load, on the server as seeded (the load's purchases and patches come after).
        if args.lighthouse_runs > 0 and (not only or "lighthouse" in only):
            results["lighthouse"] = lighthouse_pages(port, cookie, number_id, out_dir, args.lighthouse_runs)
        auth = {"BENCH_KEY": key}
        scenarios = [
            ("ceiling", "ceiling (same bytes from memory)", f"http://127.0.0.1:{ceiling_port}/v1/phone-numbers?limit=20", {}),
            # A reference, not a scenario of the issue: readiness is a real write (one settings
            # row, no authentication), the cheapest write there is.
            ("readyz", "`/readyz` (reference: a one-row write, no auth)", f"{base}/readyz", {}),
            ("list_assigned", "list assigned (limit 20)", f"{base}/v1/phone-numbers?limit=20", auth),
            ("list_available", "list available (country=US)", f"{base}/v1/phone-numbers?action=available&country=US", auth),
            ("get_one", "get one number", f"{base}/v1/phone-numbers/{number_id}", auth),
            ("patch_one", "patch one number", f"{base}/v1/phone-numbers/{number_id}",
             dict(auth, BENCH_METHOD="PATCH", BENCH_BODY='{"allowOutbound": true}')),
            ("page", f"server-rendered page `{PAGE_PATH}` (signed in)", f"{base}{PAGE_PATH}", {"BENCH_COOKIE": cookie}),
            ("purchase", "purchase (distinct inventory id each)", f"{base}/v1/phone-numbers", auth),
        ]
        if only:
            scenarios = [s for s in scenarios if s[0] in only or s[0] == "ceiling"]
        if not scenarios or scenarios[0][0] != "ceiling":
            raise SystemExit("the ceiling must be measured first")

        # Purchase ids: a separate share per warm-up and measured run, never reused.
        shares = {("warmup", 1): 100, (None, 1): len(pool) * 3 // 10, ("warmup", 64): 300}
        shares[(None, 64)] = len(pool) - sum(shares.values())
        id_files, cursor = {}, 0
        for (phase, conns), n in shares.items():
            path = os.path.join(out_dir, f"ids-{phase or 'measured'}-{conns}.txt")
            with open(path, "w") as f:
                f.write("\n".join(pool[cursor:cursor + n]) + "\n")
            id_files[(phase, conns)] = path
            cursor += n

        # The ceiling is measured right before each row, at the same connection count, so that
        # each ratio compares two runs a few seconds apart (the machine's load drifts).
        ceiling_url, ceiling_secs = scenarios[0][2], min(args.duration, 3)
        ceiling_runs = {c: [] for c in CONNECTION_LEVELS}

        def measure_ceiling(conns, tag):
            if not ceiling_runs[conns] and args.warmup > 0:
                run_wrk(ceiling_url, conns, args.warmup, {}, os.path.join(out_dir, f"wrk-ceiling-{conns}-warmup.txt"))
            raw = run_wrk(ceiling_url, conns, ceiling_secs, {}, os.path.join(out_dir, f"wrk-ceiling-{conns}-{tag}.txt"))
            row = dict(summarize(raw), scenario="ceiling", label=scenarios[0][1], conns=conns)
            ceiling_runs[conns].append(row)
            return row

        rows, hwm_progress = [], {}
        for conns in CONNECTION_LEVELS:
            first = measure_ceiling(conns, "first")
            rows.append(dict(first, ratio=1.0, ceiling_rps=first["rps"]))
            log(f"{first['label']:45s} c={conns:<3d} {first['rps']:9.0f} req/s  p50 {first['p50_ms']:7.2f} ms  "
                f"p99 {first['p99_ms']:7.2f} ms")
        for name, label, url, env_extra in scenarios[1:]:
            for conns in CONNECTION_LEVELS:
                ceiling_row = measure_ceiling(conns, name)
                purchase = name == "purchase"
                warm_env, env = dict(env_extra), dict(env_extra)
                if purchase:
                    warm_env["BENCH_IDS_FILE"] = id_files[("warmup", conns)]
                    env["BENCH_IDS_FILE"] = id_files[(None, conns)]
                if args.warmup > 0:
                    run_wrk(url, conns, args.warmup, warm_env, os.path.join(out_dir, f"wrk-{name}-{conns}-warmup.txt"))
                raw = run_wrk(url, conns, args.duration, env, os.path.join(out_dir, f"wrk-{name}-{conns}.txt"))
                row = dict(summarize(raw, purchase), scenario=name, label=label, conns=conns)
                row["ceiling_rps"] = ceiling_row["rps"]
                row["ratio"] = row["rps"] / ceiling_row["rps"]
                if conns == 64:
                    hwm_progress[name] = proc_status(server.pid, "VmHWM")
                rows.append(row)
                log(f"{label:45s} c={conns:<3d} {row['rps']:9.0f} req/s  p50 {row['p50_ms']:7.2f} ms  "
                    f"p99 {row['p99_ms']:7.2f} ms  errors {row['errors']}  x{row['ratio']:.3f} of {row['ceiling_rps']:.0f}"
                    + (f"  201={row['c201']} 409={row['c409']}" if purchase else ""))
        results["ceiling_runs"] = {str(c): [r["rps"] for r in runs] for c, runs in ceiling_runs.items()}
        results["rows"] = rows
        results["peak_rss_kb"] = proc_status(server.pid, "VmHWM")
        results["rss_end_kb"] = proc_status(server.pid, "VmRSS")
        results["hwm_after_64"] = hwm_progress
        results["load_after"] = loadavg()
        status, _ = api.request("GET", "/readyz")
        assert status == 200
    finally:
        stop(ceiling)
        stop(server)
        db.close()

    results["budget"] = budget(results)
    with open(os.path.join(args.out, f"results-{args.db}.json"), "w") as f:
        json.dump(results, f, indent=2)
    md = render(results)
    print(md)
    if args.markdown:
        write_markdown(args.markdown, args.db, md)
        log(f"wrote {args.markdown}")


# ----------------------------------------------------------------------------------------------
# Report


def find(results, scenario, conns):
    return next((r for r in results["rows"] if r["scenario"] == scenario and r["conns"] == conns), None)


def budget(results):
    items = []
    la = find(results, "list_assigned", 64)
    if la:
        ratio_ok = la["ratio"] >= BUDGET_LIST_SHARE
        tail = la["p99_ms"] / la["p50_ms"] if la["p50_ms"] else float("inf")
        items.append(("list assigned, 64 connections: >= 50% of the ceiling's req/s",
                      f"{la['ratio'] * 100:.1f}% ({la['rps']:.0f} of {la['ceiling_rps']:.0f} req/s)", ratio_ok))
        items.append(("list assigned, 64 connections: p99 <= 5x p50",
                      f"p99/p50 = {tail:.2f} ({la['p99_ms']:.2f} / {la['p50_ms']:.2f} ms)", tail <= BUDGET_LIST_P99_OVER_P50))
    purchases = [r for r in results["rows"] if r["scenario"] == "purchase"]
    if purchases:
        best = max(purchases, key=lambda r: r["purchases_per_s"])
        items.append(("purchase: >= 1,000 purchases/s",
                      f"{best['purchases_per_s']:.0f}/s at {best['conns']} connections", best["purchases_per_s"] >= BUDGET_PURCHASES_PER_S))
        other = sum(r["errors"] for r in purchases)
        items.append(("purchase: 0 errors other than 409", f"{other} other errors; "
                      + ", ".join(f"{r['c409']} x 409 at {r['conns']}" for r in purchases), other == 0))
    rss_mb = results["peak_rss_kb"] / 1024
    items.append(("server peak RSS (VmHWM) <= 100 MB", f"{rss_mb:.1f} MB", rss_mb <= BUDGET_RSS_MB))
    for bundle in results["bundles"]:
        first_load = bundle["total"]["gzip"]
        page = page_label(bundle["path"])
        limit = BUDGET_FIRST_LOAD_GZIP_BYTES.get(page, BUDGET_OTHER_PAGE_GZIP_BYTES)
        items.append((f"first page load of `{page}` (wasm + JS + CSS, gzip) <= {limit // 1000} KB",
                      f"{first_load / 1000:.1f} KB", first_load <= limit))
    cold = results["cold_start_ms"]
    items.append(("cold start to ready < 1 s", f"{max(cold):.0f} ms (slowest of {len(cold)})", max(cold) < BUDGET_COLD_START_MS))
    items += lighthouse_budget(results.get("lighthouse"))
    return [{"item": i, "measured": m, "met": ok} for i, m, ok in items]


def lighthouse_budget(lh):
    """One budget row per Lighthouse page (none when the run skipped Lighthouse on purpose)."""
    if lh is None:
        return []
    goal = (f"performance >= {lighthouse.BUDGET['performance']}, accessibility {lighthouse.BUDGET['accessibility']}, "
            f"best practices >= {lighthouse.BUDGET['best-practices']}")
    if "unavailable" in lh:
        return [(f"Lighthouse: {goal}", f"not run: {lh['unavailable']}", False)]
    items = []
    for page in lh["pages"]:
        if "error" in page:
            measured = f"failed: {page['error']}"
        else:
            s = page["scores"]
            measured = f"{s['performance']} / {s['accessibility']} / {s['best-practices']}"
        items.append((f"Lighthouse `{page['page']}`: {goal}", measured, not lighthouse.below_budget(page)))
    return items


def render(results):
    m, db = results["machine"], results["db"]
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[db]
    lines = [
        f"### {name}: {m['date']}, commit {m['commit']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB memory, Linux {m['kernel']}; "
        f"load average {results['load_before']} before the run, {results['load_after']} after "
        f"(the load generator and the server share the CPUs; other work on the machine counts too; the measured "
        f"processes ran at niceness {results['nice']}). "
        f"{m['wrk']}; {results['duration_s']} s measured per row after {results['warmup_s']} s of warm-up; "
        f"1 wrk thread at 1 connection, {min(64, m['nproc'])} at 64. Seed: {results['seed']['inventory']:,} live "
        f"inventory numbers (US, GB, NG), {results['seed']['owned']:,} owned by the benchmark organization "
        f"(bought through the API).",
        "",
        "| scenario | conns | req/s | x ceiling | ceiling req/s (just before) | p50 ms | p99 ms | p99/p50 | errors | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results["rows"]:
        tail = r["p99_ms"] / r["p50_ms"] if r["p50_ms"] else 0
        notes = ""
        if r["scenario"] == "purchase":
            notes = f"{r['c201']} x 201, {r['c409']} x 409, {r['other']} other; {r['purchases_per_s']:.0f} purchases/s over {r['seconds']:.1f} s"
            if r["requests"] == 0:
                notes += f"; no answer at all ({r['unanswered']} sent)"
            if r["other_statuses"]:
                notes += f" (other: {r['other_statuses'][:60]})"
        elif r["scenario"] == "page":
            pg = results["page"]
            notes = f"{pg['status']}, {pg['bytes']:,}-byte HTML" + (f" (redirect to {pg['location']})" if pg["location"] else "")
        elif r["scenario"] == "ceiling":
            runs = results["ceiling_runs"][str(r["conns"])]
            notes = (f"{results['seed']['list_assigned_body_bytes']:,}-byte body; first of {len(runs)} runs, "
                     f"{min(runs):.0f} to {max(runs):.0f} req/s")
        lines.append(f"| {r['label']} | {r['conns']} | {r['rps']:.0f} | {r['ratio']:.3f} | {r['ceiling_rps']:.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {tail:.1f} | {r['errors']} | {notes} |")
    cold = results["cold_start_ms"]
    lines += [
        "",
        f"Server peak RSS (VmHWM over the whole run, which includes every 64-connection load): "
        f"**{results['peak_rss_kb'] / 1024:.1f} MB** (VmRSS at the end: {results['rss_end_kb'] / 1024:.1f} MB).",
        "",
        f"Cold start to ready (spawn to the first `/readyz` 200, fresh empty database, migrations included): "
        f"**{statistics.median(cold):.0f} ms** median of {len(cold)} ({', '.join(f'{c:.0f}' for c in cold)} ms).",
        "",
        "What the dashboard's first page fetches from `target/site/pkg` (the files the server-rendered page "
        "references, and the scripts they import), each file gzipped on its own (`gzip -9`):",
        "",
        "| page | files | wasm (raw / gzip) | JS (raw / gzip) | CSS (raw / gzip) | **total gzip** | as served (brotli) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for bundle in results["bundles"]:
        by_kind = {}
        for name, size in bundle["files"].items():
            kind = name.rsplit(".", 1)[-1]
            acc = by_kind.setdefault(kind, {"raw": 0, "gzip": 0})
            acc["raw"] += size["raw"]
            acc["gzip"] += size["gzip"]
        cell = lambda k: f"{by_kind.get(k, {}).get('raw', 0):,} / {by_kind.get(k, {}).get('gzip', 0):,}"
        page = page_label(bundle["path"])
        lines.append(f"| `{page}` | {len(bundle['files'])} | {cell('wasm')} | {cell('js')} | {cell('css')} | "
                     f"**{bundle['total']['gzip']:,}** | {bundle['total']['br']:,} |")
    main_wasm = next((b["files"]["kros-numbers.wasm"] for b in results["bundles"] if "kros-numbers.wasm" in b["files"]), None)
    if main_wasm:
        lines.append(f"\nOf which the main wasm every page loads (`kros-numbers.wasm`): {main_wasm['raw']:,} bytes, "
                     f"{main_wasm['gzip']:,} gzip; the rest is the page's own chunks.")
    lines.append("")
    lines += render_lighthouse(results.get("lighthouse"))
    if db != "sqlite":
        lines += ["The budget's throughput items are set for SQLite; on this backend they are shown for reference.", ""]
    lines += ["| budget | measured | |", "|---|---|---|"]
    for item in results["budget"]:
        lines.append(f"| {item['item']} | {item['measured']} | {'met' if item['met'] else '**missed**'} |")
    return "\n".join(lines) + "\n"


def render_lighthouse(lh):
    if lh is None:
        return []
    if "unavailable" in lh:
        return [f"Lighthouse was **not run**: {lh['unavailable']}.", ""]
    index = [p["benchmark_index"] for p in lh["pages"] if p.get("benchmark_index")]
    lines = [
        f"Lighthouse {lh['version']} ({lh['chrome']}, headless), its default mobile profile (simulated slow 4G and "
        f"4x CPU slowdown); " + ("one run per page" if lh["runs"] == 1 else
                               f"{lh['runs']} runs per page, the run with the median performance score shown")
        + (f"; Lighthouse's CPU benchmark index {min(index):.0f} to {max(index):.0f}" if index else "")
        + ". Signed-in pages get the session cookie on every request (`--extra-headers`). The JSON reports are in "
        "`bench/out/<db>/lighthouse/`.",
        "",
        "| page | signed in | performance | accessibility | best practices | LCP ms | FCP ms | TBT ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for page in lh["pages"]:
        if "error" in page:  # no scores, or (redirected) another page's
            lines.append(f"| `{page['page']}` | {'yes' if page['signed_in'] else 'no'} | failed | | | | | |")
            notes.append(f"- `{page['page']}`: {page['error']}")
            continue
        under = lighthouse.below_budget(page)
        cell = lambda c: "-" if page["scores"][c] is None else (
            f"**{page['scores'][c]}**" if c in under else f"{page['scores'][c]}")
        fmt = lighthouse.fmt_ms
        lines.append(f"| `{page['page']}` | {'yes' if page['signed_in'] else 'no'} | {cell('performance')} | "
                     f"{cell('accessibility')} | {cell('best-practices')} | {fmt(page['lcp_ms'])} | "
                     f"{fmt(page['fcp_ms'])} | {fmt(page['tbt_ms'])} |")
        for category in under:
            audits = "; ".join(failing_audit(a) for a in page["failing"][category]) or "no weighted audit below 1"
            notes.append(f"- `{page['page']}`, {category} {page['scores'][category]} (budget {lighthouse.BUDGET[category]}): "
                         f"{audits}")
    if notes:
        lines += ["", "Under budget (the weighted audits below 1) or failed:", ""] + notes
    return lines + [""]


def failing_audit(audit):
    text = f"`{audit['id']}` ({audit['title']}" + (f": {audit['display']}" if audit["display"] else "") + ")"
    if audit.get("examples"):
        text += f", e.g. `{audit['examples'][0][:100].replace('`', chr(39))}`"
    return text


def write_markdown(path, db, section):
    begin, end = f"<!-- bench:{db}:begin -->", f"<!-- bench:{db}:end -->"
    block = f"{begin}\n{section}{end}\n"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
