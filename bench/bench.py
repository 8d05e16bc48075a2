#!/usr/bin/env python3
"""The keywarden benchmark driver (started by bench/run.sh after the build).

One run prints each figure beside its ceiling measured in the same run, with the ratio, the
target and PASS/FAIL, and writes the same as JSON. Sections (all by default, --only picks):
  startup    exec -> ready time and idle memory, on fresh and existing databases
  load       the token endpoint under wrk with one user (bench/load.py): first-time and
             repeated Basic, RS256 and ES256 refresh, against raw argon2 (keywarden's and
             libargon2), RS256/ES256 signing and a minimal actix-web endpoint
  realistic  refreshes spread over thousands of users with docker logins and admin writes
             alongside (bench/realistic.py)
  users100k  bench/users_100k.sh (or bench/users_100k.py), when it exists

Exit status: 0 when every section ran, whatever the targets say; 1 when something could not
be measured, including any non-200 answer under load (a benchmark of errors is worthless).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import load  # noqa: E402
import realistic  # noqa: E402
from common import BENCH_DIR, BenchError, Server  # noqa: E402
from report import load_rows, realistic_rows, report, row  # noqa: E402

SECTIONS = ("startup", "load", "realistic", "users100k")
QUICK = {"seconds": 3, "raw_seconds": 1.0, "start_runs": 2, "realistic_users": 1000,
         "realistic_tokens": 500}
FULL = {"seconds": 15, "raw_seconds": 3.0, "start_runs": 10, "realistic_users": 10000,
        "realistic_tokens": 5000}


def measure_start_up(binary, work, runs):
    """Median exec-to-ready time and idle VmHWM, on fresh databases and on an existing one."""
    results = {}
    existing_db = os.path.join(work, "existing", "kw.db")
    for kind in ("fresh", "existing"):
        times, hwm = [], []
        for i in range(runs):
            db = os.path.join(work, f"fresh-{i}", "kw.db") if kind == "fresh" else existing_db
            if kind == "existing" and not os.path.exists(db):
                prepare = Server(binary, db, os.path.join(work, "start-up.log"))
                try:
                    prepare.wait_ready()
                finally:
                    prepare.stop()
            server = Server(binary, db, os.path.join(work, "start-up.log"))
            try:
                times.append(server.wait_ready())
                hwm.append(server.status_kib("VmHWM"))
            finally:
                server.stop()
        results[kind] = (statistics.median(times), min(times), max(times),
                         statistics.median(hwm))
    return results


def failures(runs):
    """Non-200 answers, socket errors and reused first-time users over some wrk runs."""
    return sum(r["status_other"] + r["socket_errors"] + r.get("reused", 0)
               for r in runs.values())


def users_100k(ctx):
    """Runs bench/users_100k.sh (environment: KEYWARDEN_BENCH_BINARY, KEYWARDEN_BENCH_QUICK),
    or else bench/users_100k.py (--no-build; --quick asks for 10,000 users and short runs);
    their figures print as they go."""
    args = ctx["args"]
    script = os.path.join(BENCH_DIR, "users_100k.sh")
    python = os.path.join(BENCH_DIR, "users_100k.py")
    if os.access(script, os.X_OK):
        command = [script]
    elif os.path.exists(python):
        command = [sys.executable, python, "--no-build"]
        if args.quick:
            command += ["--users", "10000", "--seconds", "3", "--rest", "2"]
    else:
        print("bench: bench/users_100k.sh is missing; section users100k skipped",
              file=sys.stderr)
        return [row("users100k", "bench/users_100k.sh", None, "", note="missing: not run")]
    name = os.path.basename(script if command[0] == script else python)
    env = dict(os.environ, KEYWARDEN_BENCH_BINARY=args.server,
               KEYWARDEN_BENCH_QUICK="1" if args.quick else "")
    done = subprocess.run(command, env=env)
    if done.returncode != 0:
        ctx["errors"]["users100k"] = f"bench/{name} exited with {done.returncode}"
    return [row("users100k", f"bench/{name} (its figures above)", done.returncode, "exit",
                target="= 0", ok=done.returncode == 0)]


def run_sections(ctx):
    args, rows = ctx["args"], []
    binaries = SimpleNamespace(server=args.server, raw_rates=args.raw_rates,
                               argon2_rate=args.argon2_rate, http_ceiling=args.http_ceiling)
    for section in args.only:
        work = os.path.join(ctx["work"], section)
        os.makedirs(work)
        print(f"bench: {section}...", file=sys.stderr)
        try:
            if section == "startup":
                ctx["start"] = measure_start_up(args.server, work, args.start_runs)
            elif section == "load":
                ctx["load"] = load.measure(binaries, work, args)
                rows += load_rows(ctx["load"])
                ctx["errors"].update(ctx["load"]["errors"])
                bad = failures(ctx["load"]["runs"])
            elif section == "realistic":
                ctx["realistic"] = realistic.measure(binaries, work, args)
                rows += realistic_rows(ctx["realistic"])
                bad = failures(ctx["realistic"]["runs"]) + sum(
                    b["failed"] for b in ctx["realistic"]["background"].values())
            else:
                rows += users_100k(ctx)
            if section in ("load", "realistic"):
                rows.append(row(section, "non-200 answers, socket errors, failed calls", bad,
                                "", target="= 0", ok=bad == 0))
                if bad:
                    ctx["errors"][section] = f"{bad} requests failed"
        except (BenchError, subprocess.CalledProcessError, OSError) as err:
            ctx["errors"][section] = str(err)
            print(f"bench: error in {section}: {err}", file=sys.stderr)
    return rows


def prune(work):
    """Deletes the databases, realm files and token lists, keeping logs and wrk output."""
    for folder, _, files in os.walk(work):
        for name in files:
            if not name.endswith((".log", ".txt")) or name in PRUNED:
                os.remove(os.path.join(folder, name))


# Lists of credentials and identity tokens the runs read; large, and secrets of a sort.
PRUNED = ("first-time.txt", "identity-tokens.txt")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"full run: {FULL}; --quick: {QUICK}; explicit options win")
    parser.add_argument("--server", required=True, help="the release keywarden binary")
    parser.add_argument("--raw-rates", required=True, help="the raw_rates example binary")
    parser.add_argument("--argon2-rate", required=True, help="the libargon2 driver")
    parser.add_argument("--http-ceiling", required=True, help="the http_ceiling example")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, of {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--seconds", type=int, help="wrk duration per run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--raw-seconds", type=float, help="duration of each raw measurement")
    parser.add_argument("--start-runs", type=int, help="start-ups per DB kind")
    parser.add_argument("--realistic-users", type=int, help="users imported (realistic)")
    parser.add_argument("--realistic-tokens", type=int,
                        help="users with identity tokens whose refreshes wrk spreads over")
    parser.add_argument("--login-rate", type=float, default=5.0,
                        help="docker logins per second alongside (realistic); 5/s is 18,000 an "
                             "hour for 10,000 users, and each costs an argon2 verify (about 17 ms "
                             "of a core), so 20/s alone takes a sixth of a 2-core machine")
    parser.add_argument("--admin-write-rate", type=float, default=2.0,
                        help="admin API writes per second alongside (realistic)")
    parser.add_argument("--json", default="target/bench-report.json",
                        help="where to write the report as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.realistic_tokens >= args.realistic_users:
        parser.error("--realistic-tokens must be fewer than --realistic-users")
    return args


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    work = tempfile.mkdtemp(prefix="keywarden-bench-")
    ctx = {"args": args, "work": work, "errors": {}, "cores": os.cpu_count(),
           "binary_size": os.path.getsize(args.server)}
    try:
        rows = run_sections(ctx)
        report(ctx, rows, args.json)
    finally:
        if args.keep:
            print(f"bench: work directory kept in {work}", file=sys.stderr)
        elif ctx["errors"]:
            prune(work)
            print(f"bench: wrk output and server logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    for section, error in ctx["errors"].items():
        print(f"bench: error: {section}: {error}", file=sys.stderr)
    return 1 if ctx["errors"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError, OSError) as err:
        print(f"bench: error: {err}", file=sys.stderr)
        sys.exit(1)
