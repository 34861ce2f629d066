#!/usr/bin/env python3
"""`make bench`, calls: inbound call setups per second through Kamailio with the service deciding
each call (the SIP door), against the same Kamailio routing the same calls from a static answer
in its config (the ceiling, `scripts/sip.sh --static-target`), measured just before with the same
SIPp rate ramp. Also: the SIP door's decision latency under that load (a probe asking it beside
the calls), and whether cached credentials are served without the service (REGISTERs with the
server stopped).

Run by bench/run.sh after bench/bench.py (the release build is there). Standard library only;
everything on 127.0.0.1. The table goes into BENCHMARKS.md between the `sip` markers.
"""

import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import bench
from bench import BIN, ROOT, log

DOOR_SECRET = "bench-sip-door-secret-0123456789"
DOMAIN = "sip.bench.kros"
NUMBER = "+14158230042"
RATES = (50, 100, 200, 300, 400, 600, 800)
STEP_SECONDS = 5
BUDGET_SHARE = 0.5
BUDGET_DOOR_P99_MS = 5.0
REGISTERS_WITHOUT_SERVICE = 200

UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="carrier call">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:carrier@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""

UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="target answers">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Length: 0
    ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Length: 0
    ]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>
</scenario>
"""

REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="device registers">
  <send retrans="500"><![CDATA[
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@{domain}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@{domain}>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Expires: 600
      Content-Length: 0
    ]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@{domain}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@{domain}>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      [field1]
      Expires: 600
      Content-Length: 0
    ]]></send>
  <recv response="200"/>
</scenario>
""".replace("{domain}", DOMAIN)


def free_udp_port():
    import socket
    while True:
        port = bench.free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


class Kamailio:
    """One instance through scripts/sip.sh."""

    def __init__(self, work, door_port, static_target=None):
        self.dir = tempfile.mkdtemp(dir=work)
        self.port, self.rpc, self.carrier = free_udp_port(), bench.free_port(), free_udp_port()
        cmd = [os.path.join(ROOT, "scripts", "sip.sh"), "start", "--dir", self.dir,
               "--door", f"http://127.0.0.1:{door_port}", "--secret", DOOR_SECRET,
               "--listen", f"127.0.0.1:{self.port}", "--rpc", f"127.0.0.1:{self.rpc}", "--domain", DOMAIN,
               "--carriers", f"127.0.0.1:{self.carrier}"]
        if static_target:
            cmd += ["--static-target", static_target]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "sip.sh"), "stop", "--dir", self.dir], cwd=ROOT)


def sipp(scenario_path, local_port, remote_port, rate, calls, work, inject=None):
    """One SIPp run of `calls` calls at `rate` per second; (successful, failed, seconds)."""
    stats = os.path.join(work, f"stats-{local_port}-{rate}.csv")
    cmd = ["sipp", "-sf", scenario_path, "-i", "127.0.0.1", "-p", str(local_port), "-s", NUMBER.lstrip("+"),
           "-r", str(rate), "-m", str(calls), "-l", str(max(rate * 4, 50)), "-nostdin", "-timeout", "60s",
           "-trace_stat", "-stf", stats, "-fd", "1", f"127.0.0.1:{remote_port}"]
    if inject:
        cmd[3:3] = ["-inf", inject]
    started = time.monotonic()
    subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=bench.prioritized)
    seconds = time.monotonic() - started
    with open(stats) as f:
        rows = [line.strip().split(";") for line in f if line.strip()]
    header, last = rows[0], rows[-1]
    column = lambda name: int(last[header.index(name)])
    return column("SuccessfulCall(C)"), column("FailedCall(C)"), seconds


class DoorProbe(threading.Thread):
    """Asks the SIP door for the number's decision every 20 ms, keeping the latencies."""

    def __init__(self, door_port):
        super().__init__(daemon=True)
        self.door_port, self.latencies_ms, self.stopping = door_port, [], threading.Event()
        token = base64.b64encode(f"kamailio:{DOOR_SECRET}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.door_port, timeout=5)
        path = f"/sip/v1/inbound?trunk=live&to=%2B{NUMBER[1:]}&from=probe"
        while not self.stopping.is_set():
            started = time.perf_counter()
            conn.request("GET", path, headers=self.headers)
            answer = conn.getresponse().read()
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            assert b'"route"' in answer, answer
            time.sleep(0.02)


def ramp(kamailio, work, uac, door_port=None):
    """The rate ramp; each step's rate, calls/s completed, failures and door latencies."""
    steps = []
    for rate in RATES:
        probe = DoorProbe(door_port) if door_port else None
        if probe:
            probe.start()
        ok, failed, seconds = sipp(uac, kamailio.carrier, kamailio.port, rate, rate * STEP_SECONDS, work)
        if probe:
            probe.stopping.set()
            probe.join()
        step = {"rate": rate, "successful": ok, "failed": failed, "seconds": round(seconds, 2),
                "calls_per_s": round(ok / seconds, 1)}
        if probe and len(probe.latencies_ms) >= 10:
            latencies = sorted(probe.latencies_ms)
            step["door_p50_ms"] = round(statistics.median(latencies), 2)
            step["door_p99_ms"] = round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2)
        steps.append(step)
        log(f"  {rate} calls/s asked: {ok} answered, {failed} failed in {seconds:.1f} s {step.get('door_p99_ms', '')}")
        if failed or ok < rate * STEP_SECONDS:
            break
    return steps


def capacity(steps):
    """The highest rate sustained without a failed call (its completed calls per second)."""
    clean = [s for s in steps if s["failed"] == 0 and s["successful"] == s["rate"] * STEP_SECONDS]
    return max(clean, key=lambda s: s["rate"]) if clean else None


def main():
    out = os.path.join(ROOT, "bench", "out", "sip")
    subprocess.run(["rm", "-rf", out])
    os.makedirs(out)
    work = tempfile.mkdtemp(dir=out)
    for name, text in (("uac.xml", UAC), ("uas.xml", UAS), ("register.xml", REGISTER)):
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    uac = os.path.join(work, "uac.xml")
    results = {"machine": bench.machine(), "load_before": bench.loadavg(), "step_seconds": STEP_SECONDS}

    db = bench.Database("sqlite", out)
    database_url = db.url("kros_sip")
    env = bench.server_env(database_url)
    bench.sh([BIN, "migrate"], env=env)
    org = bench.sh([BIN, "org", "create", "SIP Bench"], env=env)
    key = bench.sh([BIN, "key", "create", "--org", org, "--mode", "live", "--name", "bench"], env=env)
    with open(os.path.join(out, "inventory.csv"), "w") as f:
        f.write(f"e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n{NUMBER},US,local,100,115,USD\n")
    bench.sh([BIN, "inventory", "import", os.path.join(out, "inventory.csv"), "--mode", "live"], env=env)

    port, door_port, uas_port = bench.free_port(), bench.free_port(), free_udp_port()
    env.update({"KROS_SIP_DOOR_ADDR": f"127.0.0.1:{door_port}", "KROS_SIP_DOOR_SECRET": DOOR_SECRET,
                "KROS_SIP_ALLOW_PRIVATE_TARGETS": "true", "KROS_SIP_DOMAIN": DOMAIN})
    server = uas = None
    try:
        server = subprocess.Popen([BIN, "serve", "--addr", f"127.0.0.1:{port}"], env=env, cwd=ROOT,
                                  stdout=open(os.path.join(out, "server.log"), "w"), stderr=subprocess.STDOUT,
                                  preexec_fn=bench.prioritized)
        bench.wait_ready(port, server)
        api = bench.Http(port, key)
        target = f"sip:127.0.0.1:{uas_port}"
        endpoint = api.json("POST", "/v1/endpoints", {"name": "Bench PBX", "targets": [target]}, expect=(201,))
        inventory = api.json("GET", "/v1/phone-numbers?action=available&country=US")["data"][0]["id"]
        number = api.json("POST", "/v1/phone-numbers", {"inventory_id": inventory, "endpointId": endpoint["id"]},
                          expect=(201,))
        details = api.json("GET", f"/v1/phone-numbers/{number['id']}")
        uas = subprocess.Popen(["sipp", "-sf", os.path.join(work, "uas.xml"), "-i", "127.0.0.1", "-p", str(uas_port),
                                "-nostdin"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=bench.prioritized)

        log("calls: the ceiling (Kamailio answering from its config)")
        ceiling = Kamailio(work, door_port, static_target=f"sip:{NUMBER}@127.0.0.1:{uas_port}")
        try:
            results["ceiling"] = ramp(ceiling, work, uac)
        finally:
            ceiling.stop()
        log("calls: the service deciding each call")
        edge = Kamailio(work, door_port)
        try:
            results["service"] = ramp(edge, work, uac, door_port=door_port)
            # Cached credentials: one REGISTER warms the cache; then the server goes away and the
            # same device registers again and again.
            credentials = details["sip_credentials"]
            inject = os.path.join(work, "register.csv")
            with open(inject, "w") as f:
                f.write(f"SEQUENTIAL\n{NUMBER};[authentication username={credentials['username']} "
                        f"password={credentials['password']}];\n")
            device = free_udp_port()
            warm = sipp(os.path.join(work, "register.xml"), device, edge.port, 1, 1, work, inject)
            bench.stop(server)
            server = None
            ok, failed, seconds = sipp(os.path.join(work, "register.xml"), device, edge.port, 100,
                                       REGISTERS_WITHOUT_SERVICE, work, inject)
            results["registers_without_service"] = {"warm": warm[0], "successful": ok, "failed": failed,
                                                    "asked": REGISTERS_WITHOUT_SERVICE}
            log(f"REGISTERs with the service stopped: {ok} of {REGISTERS_WITHOUT_SERVICE} accepted")
        finally:
            edge.stop()
    finally:
        bench.stop(uas)
        bench.stop(server)
        db.close()
    results["load_after"] = bench.loadavg()
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    write(results)


def write(results):
    bench.write_markdown(os.path.join(ROOT, "BENCHMARKS.md"), "sip", render(results))
    log("calls: written to BENCHMARKS.md")


def render(results):
    m = results["machine"]
    lines = [f"### Calls through Kamailio: {m['date']}, commit {m['commit']}", "",
             f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB memory, Linux {m['kernel']}; "
             f"load average {results['load_before']} before, "
             f"{results['load_after']} after. SIPp carrier calls (INVITE, answered by a SIPp target, ACK, "
             f"BYE) over UDP at each rate for {STEP_SECONDS} s, until a step has a failed call; Kamailio 5.6 "
             "with 4 UDP workers; the service on SQLite. The door's latency: a probe asking it every 20 ms "
             "beside the calls (client-side, one kept-alive connection).", "",
             "| routing | rate asked (calls/s) | answered | failed | calls/s completed | door p50 ms | door p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, label in (("ceiling", "static (the ceiling)"), ("service", "the service decides")):
        for s in results[name]:
            lines.append(f"| {label} | {s['rate']} | {s['successful']} | {s['failed']} | {s['calls_per_s']} | "
                         f"{s.get('door_p50_ms', '')} | {s.get('door_p99_ms', '')} |")
    ceiling, service = capacity(results["ceiling"]), capacity(results["service"])
    share = (service["rate"] / ceiling["rate"]) if ceiling and service else 0
    p99 = service.get("door_p99_ms") if service else None
    registers = results["registers_without_service"]
    lines += ["", "| budget | measured | |", "|---|---|---|",
              f"| call setups with the service deciding >= {BUDGET_SHARE:.0%} of the ceiling's | "
              f"{(service or {}).get('rate', 0)} of {(ceiling or {}).get('rate', 0)} calls/s sustained "
              f"({share:.2f}) | {'met' if share >= BUDGET_SHARE else '**missed**'} |",
              f"| the door's decision p99 <= {BUDGET_DOOR_P99_MS} ms at that load | {p99} ms | "
              f"{'met' if p99 is not None and p99 <= BUDGET_DOOR_P99_MS else '**missed**'} |",
              f"| cached credentials never reach the service | {registers['successful']} of {registers['asked']} "
              f"REGISTERs accepted with the server stopped | "
              f"{'met' if registers['successful'] == registers['asked'] else '**missed**'} |", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # `--render`: the table again from the last run's results (bench/out/sip/results.json).
    if sys.argv[1:] == ["--render"]:
        with open(os.path.join(ROOT, "bench", "out", "sip", "results.json")) as f:
            sys.exit(write(json.load(f)))
    sys.exit(main())
