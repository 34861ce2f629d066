#!/usr/bin/env python3
"""Lighthouse on the dashboard's pages: performance, accessibility and best-practices scores.

`bench/bench.py` imports it (`make bench`); `scripts/install-tools.sh lighthouse` installs the
pinned Lighthouse into .tools/lighthouse and Debian's Chromium. Lighthouse's default profile is
used (no `--preset`): a mobile device, with simulated throttling (a slow 4G network and a 4x
slower CPU, applied to the trace afterwards), so the scores do not hang on this machine's network.

By hand, against any server (the JSON reports go to --out, the summary to stdout):

    python3 bench/lighthouse.py http://127.0.0.1:PORT/ [--cookie 'name=value'] [--runs 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIGHTHOUSE = os.path.join(ROOT, ".tools", "lighthouse", "node_modules", ".bin", "lighthouse")
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
# Headless Chromium as root in a container: no sandbox; no GPU; and none of the browser's own
# background traffic (updates, sync, field trials), which would land in the trace.
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
                "--disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices")
# The budget of the issue, per page: the lowest score each category may have (0-100).
BUDGET = {"performance": 95, "accessibility": 100, "best-practices": 95}
# The metrics kept from each report (audit id: key in the summary), all in milliseconds.
METRICS = {"largest-contentful-paint": "lcp_ms", "first-contentful-paint": "fcp_ms",
           "total-blocking-time": "tbt_ms"}
RUN_TIMEOUT_S = 240


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def unavailable():
    """Why Lighthouse cannot run here (a sentence), or None when it can."""
    if not os.access(LIGHTHOUSE, os.X_OK):
        return f"Lighthouse is not installed ({LIGHTHOUSE}): run scripts/install-tools.sh lighthouse"
    if not os.access(CHROME, os.X_OK):
        return f"no Chromium at {CHROME}: run scripts/install-tools.sh lighthouse (or set CHROME_PATH)"
    return None


def version():
    proc = subprocess.run([LIGHTHOUSE, "--version"], capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def chrome_version():
    # stdout only: Debian's launcher script may complain on stderr (its /dev/shm size check).
    proc = subprocess.run([CHROME, "--version"], capture_output=True, text=True)
    return proc.stdout.split(" built on ")[0].strip() or "unknown"


def run_lighthouse(url, cookie, report_path, preexec_fn=None):
    """One Lighthouse run of `url`; returns its JSON report (a dict), or raises RuntimeError."""
    cmd = [LIGHTHOUSE, url, "--output=json", f"--output-path={report_path}", f"--chrome-flags={CHROME_FLAGS}",
           f"--only-categories={','.join(CATEGORIES)}", "--quiet"]
    if cookie:
        # Sent with every request of the run, the page's own /pkg files included: harmless, as a
        # browser sends its cookie with them too. Passed in a file, so the session is not on argv.
        headers_path = report_path + ".headers.json"
        with open(headers_path, "w") as f:
            json.dump({"Cookie": cookie}, f)
        cmd.append(f"--extra-headers={headers_path}")
    env = dict(os.environ, CHROME_PATH=CHROME)
    try:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                              preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Lighthouse took more than {RUN_TIMEOUT_S} s on {url}")
    if proc.returncode != 0 or not os.path.exists(report_path):
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        why = [l.strip() for l in lines if "error" in l.lower()][-2:] or lines[-1:] or ["no output"]
        raise RuntimeError(f"Lighthouse failed on {url} (exit {proc.returncode}): {' / '.join(why)}")
    with open(report_path) as f:
        return json.load(f)


def failing_audits(report, category):
    """The audits that cost the category points: weight > 0 and a score below 1."""
    audits = report["audits"]
    failing = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits.get(ref["id"], {})
        if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
            failing.append({"id": ref["id"], "title": audit.get("title", ""), "score": audit["score"],
                            "display": audit.get("displayValue", ""), "examples": examples(audit)})
    return failing


def examples(audit, limit=3):
    """A few of the audit's items (the element, message or URL at fault), for the reader."""
    items = (audit.get("details") or {}).get("items") or []
    found = []
    for item in items[:limit]:
        node = item.get("node") if isinstance(item.get("node"), dict) else {}
        text = node.get("snippet") or item.get("description") or item.get("url") or item.get("source")
        if isinstance(text, str):
            found.append(text[:200])
    return found


def summarize(report):
    """Scores (0-100), the metrics and the failing audits of one report."""
    scores, failing = {}, {}
    for category in CATEGORIES:
        score = report["categories"].get(category, {}).get("score")
        # A score is null when the run broke (e.g. the page painted nothing): no score, no budget.
        scores[category] = None if score is None else round(score * 100)
        failing[category] = failing_audits(report, category) if category in report["categories"] else []
    summary = {"scores": scores, "failing": failing, "final_url": report.get("finalDisplayedUrl"),
               "runtime_error": (report.get("runtimeError") or {}).get("message"),
               "benchmark_index": report.get("environment", {}).get("benchmarkIndex")}
    for audit_id, key in METRICS.items():
        summary[key] = report["audits"].get(audit_id, {}).get("numericValue")
    return summary


def measure(name, url, cookie, out_dir, runs=1, preexec_fn=None):
    """Lighthouse `runs` times on `url`: the run with the median performance score, and every
    run's scores. Reports go to out_dir/lighthouse-NAME[-i].json. Never raises: a failure is
    returned as {"error": ...}, so the benchmark reports it and goes on. preexec_fn: for the
    Lighthouse process (and so its Chromium), e.g. the benchmark's niceness."""
    os.makedirs(out_dir, exist_ok=True)
    summaries = []
    for i in range(runs):
        report_path = os.path.join(out_dir, f"lighthouse-{name}{f'-{i + 1}' if runs > 1 else ''}.json")
        start = time.monotonic()
        try:
            summary = summarize(run_lighthouse(url, cookie, report_path, preexec_fn))
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            return {"name": name, "url": url, "error": str(e)}
        summary.update(report=shown_path(report_path), seconds=round(time.monotonic() - start, 1))
        if not same_page(url, summary["final_url"]):
            # A signed-in page whose session is refused redirects to /sign-in: scores of another page.
            return dict(summary, name=name, url=url, error=f"the run ended at {summary['final_url']}, not at {url}")
        summaries.append(summary)
    by_performance = sorted(summaries, key=lambda s: s["scores"]["performance"] or 0)
    result = dict(by_performance[len(by_performance) // 2], name=name, url=url, runs=runs)
    if runs > 1:
        result["all_scores"] = [s["scores"] for s in summaries]
        lcps = [s["lcp_ms"] for s in summaries if s["lcp_ms"] is not None]
        result["lcp_ms_median"] = statistics.median(lcps) if lcps else None
    return result


def shown_path(path):
    """The path as the results show it: relative to the repository when inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def same_page(url, final_url):
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(final_url or "")
    return (a.path or "/", a.query) == (b.path or "/", b.query)


def below_budget(result):
    """The categories of one page's result under budget (all of them when the run failed)."""
    if "error" in result:
        return list(CATEGORIES)
    return [c for c in CATEGORIES if result["scores"][c] is None or result["scores"][c] < BUDGET[c]]


def describe(result):
    """One log line per page."""
    if "error" in result:
        return f"lighthouse {result['name']}: FAILED: {result['error']}"
    s = result["scores"]
    line = (f"lighthouse {result['name']:8s} performance {s['performance']}  accessibility {s['accessibility']}  "
            f"best practices {s['best-practices']}  LCP {fmt_ms(result['lcp_ms'])} ms  "
            f"FCP {fmt_ms(result['fcp_ms'])} ms  TBT {fmt_ms(result['tbt_ms'])} ms  ({result['seconds']} s)")
    for category in below_budget(result):
        ids = ", ".join(a["id"] for a in result["failing"][category]) or "no audit below 1"
        line += f"\n    {category} under {BUDGET[category]}: {ids}"
    if result.get("runtime_error"):
        line += f"\n    runtime error: {result['runtime_error']}"
    return line


def fmt_ms(value):
    return "-" if value is None else f"{value:.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--name", default="page", help="name of the page in the report file names")
    parser.add_argument("--cookie", default="", help="Cookie header to send, e.g. 'kros_session=...'")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "lighthouse"))
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        raise SystemExit(reason)
    log(f"Lighthouse {version()}, {chrome_version()}")
    result = measure(args.name, args.url, args.cookie or None, args.out, args.runs)
    log(describe(result))
    json.dump(result, sys.stdout, indent=2)
    print()
    sys.exit(1 if "error" in result else 0)


if __name__ == "__main__":
    main()
