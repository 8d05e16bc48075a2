"""The benchmark's report: each figure beside the ceiling it is measured against, the ratio,
the target and PASS/FAIL, the noise check, and the same rows as JSON."""

import json

from common import mib

TARGETS = {
    "first_time_basic_ratio": 0.85,
    "repeated_basic_ratio": 0.60,
    "refresh_ratio": 0.60,
    "es256_ratio": 4.0,
    "refresh_p99_ms": 50.0,
    "peak_rss_mib": 64.0,
    "realistic_ratio": 0.80,
}
# Cores other processes may use during a measurement before the report calls it unreliable.
NOISE_CORES = 0.2
# Change of a raw rate across a load run beyond which the report calls the ratio unreliable.
DRIFT = 0.10


def row(section, figure, value, unit, ceiling_name=None, ceiling=None, target=None, ok=None,
        note=""):
    """One report line; `ok` None means informational (no target)."""
    ratio = value / ceiling if ceiling and value is not None else None
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return {"section": section, "figure": figure, "value": value, "unit": unit,
            "ceiling_name": ceiling_name, "ceiling": ceiling, "ratio": ratio, "target": target,
            "verdict": verdict, "note": note}


def at_least(ratio, target):
    return ratio is not None and ratio >= target


def load_rows(load):
    runs, ceilings, errors = load["runs"], load["ceilings"], load["errors"]
    rps = {name: r["rps"] for name, r in runs.items()}
    p99 = {name: r["latency_p99_us"] / 1000 for name, r in runs.items()}
    rows = []
    argon2, libargon2 = ceilings["argon2 (keywarden)"], ceilings["argon2 (libargon2)"]
    ratio = rps["first-time Basic"] / argon2["per_s"]
    t = TARGETS["first_time_basic_ratio"]
    rows.append(row("load", "first-time Basic (a new user per request)", rps["first-time Basic"],
                    "req/s", "argon2id verify, keywarden", argon2["per_s"], f">= {t}x",
                    at_least(ratio, t)))
    rows.append(row("load", "first-time Basic (a new user per request)", rps["first-time Basic"],
                    "req/s", "argon2id verify, libargon2", libargon2["per_s"]))
    t = TARGETS["repeated_basic_ratio"]
    ratio = rps["repeated Basic"] / rps["RS256 refresh"]
    rows.append(row("load", "repeated Basic (the same user's credentials)", rps["repeated Basic"],
                    "req/s", "RS256 refresh path", rps["RS256 refresh"], f">= {t}x",
                    at_least(ratio, t)))
    rows.append(row("load", "repeated Basic (the same user's credentials)", rps["repeated Basic"],
                    "req/s", "argon2id verify, keywarden", argon2["per_s"]))
    t = TARGETS["refresh_ratio"]
    sign = ceilings["RS256 sign"]["per_s"]
    rows.append(row("load", "RS256 refresh", rps["RS256 refresh"], "req/s", "RS256 sign", sign,
                    f">= {t}x", at_least(rps["RS256 refresh"] / sign, t)))
    rows.append(row("load", "RS256 refresh", rps["RS256 refresh"], "req/s",
                    "HTTP ceiling (actix-web, same body)", rps["HTTP ceiling"]))
    t = TARGETS["refresh_p99_ms"]
    rows.append(row("load", "RS256 refresh p99", p99["RS256 refresh"], "ms", target=f"< {t} ms",
                    ok=p99["RS256 refresh"] < t))
    es_sign = ceilings["ES256 sign"]["per_s"]
    t = TARGETS["es256_ratio"]
    if "ES256 refresh" in rps:
        es = rps["ES256 refresh"]
        rows.append(row("load", "ES256 refresh", es, "req/s", "RS256 refresh path",
                        rps["RS256 refresh"], f">= {t}x", at_least(es / rps["RS256 refresh"], t)))
        rows.append(row("load", "ES256 refresh", es, "req/s", "ES256 sign", es_sign))
        rows.append(row("load", "ES256 refresh", es, "req/s",
                        "HTTP ceiling (actix-web, RS256's body)", rps["HTTP ceiling"]))
        rows.append(row("load", "ES256 refresh p99", p99["ES256 refresh"], "ms",
                        target=f"< {TARGETS['refresh_p99_ms']} ms",
                        ok=p99["ES256 refresh"] < TARGETS["refresh_p99_ms"]))
    else:
        rows.append(row("load", "ES256 refresh", None, "req/s", "RS256 refresh path",
                        rps["RS256 refresh"], f">= {t}x", False,
                        note=f"not measured: {errors['ES256 refresh']}"))
    rows.append(row("load", "HTTP ceiling p99", p99["HTTP ceiling"], "ms",
                    note=f"{load['facts']['body_bytes']} B answers"))
    server_runs = [r for name, r in runs.items() if name != "HTTP ceiling"]
    peak = max([load["after"]["hwm"]] + [r["peak_rss_kib"] for r in server_runs])
    t = TARGETS["peak_rss_mib"]
    rows.append(row("load", "peak RSS under load (VmHWM)", mib(peak), "MiB", target=f"< {t} MiB",
                    ok=mib(peak) < t))
    return rows


def realistic_rows(realistic):
    runs, background = realistic["runs"], realistic["background"]
    single, spread = runs["single-user refresh"], runs["spread refresh"]
    facts = realistic["facts"]
    t = TARGETS["realistic_ratio"]
    rows = [row("realistic", f"spread refresh ({facts['identity_tokens']} users' tokens)",
                spread["rps"], "req/s",
                "single-user refresh, same server", single["rps"], f">= {t}x",
                at_least(spread["rps"] / single["rps"], t))]
    t = TARGETS["refresh_p99_ms"]
    for name, r in (("spread refresh p99", spread), ("single-user refresh p99", single)):
        p99 = r["latency_p99_us"] / 1000
        rows.append(row("realistic", name, p99, "ms", target=f"< {t} ms", ok=p99 < t))
    for name, b in background.items():
        rows.append(row("realistic", f"{name} alongside (answered 2xx)", b["per_s"], "/s",
                        note=f"p99 {b['p99_ms']:.1f} ms, {b['failed']} failed"))
    rows.append(row("realistic", "peak RSS (VmHWM)", mib(realistic["hwm"]), "MiB",
                    target=f"< {TARGETS['peak_rss_mib']} MiB",
                    ok=mib(realistic["hwm"]) < TARGETS["peak_rss_mib"]))
    return rows


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def print_runs(title, runs):
    print(title)
    print(f"  {'':<22} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} {'non-200':>7}"
          f" {'sock err':>8} {'srv cores':>9} {'ms/req':>6} {'peak RSS':>9} {'others':>6}")
    for name, r in runs.items():
        print(f"  {name:<22} {r['rps']:8.1f} {r['latency_p50_us'] / 1000:7.2f}"
              f" {r['latency_p99_us'] / 1000:7.2f} {r['latency_max_us'] / 1000:8.2f}"
              f" {r['status_other']:7d} {r['socket_errors']:8d} {r['server_cores']:9.2f}"
              f" {r['server_cpu_ms_per_req']:6.2f} {mib(r['peak_rss_kib']):5.1f} MiB"
              f" {r['other_cores']:6.2f}")
        if r["first_error"]:
            print(f"    first non-200: {r['first_error']}")
    print()


def print_rows(rows):
    print(f"  {'figure':<48} {'value':>9} {'unit':<6} {'ceiling':<36} {'value':>9}"
          f" {'ratio':>7}  {'target':<10} verdict")
    for r in rows:
        print(f"  {r['figure'][:48]:<48} {fmt(r['value']):>9} {r['unit']:<6}"
              f" {(r['ceiling_name'] or '')[:36]:<36} {fmt(r['ceiling']):>9}"
              f" {fmt(r['ratio']):>7}  {r['target'] or '':<10} {r['verdict']}"
              + (f"  ({r['note']})" if r["note"] else ""))


def noise(ctx):
    """The most cores other processes used during any measurement, and the largest drift."""
    others, drifts = [0.0], [0.0]
    for section in ("load", "realistic"):
        for r in ctx.get(section, {}).get("runs", {}).values():
            others.append(r["other_cores"])
    for raw in ctx.get("load", {}).get("ceilings", {}).values():
        others.append(raw["other_cores"])
        drifts.append(abs(raw["drift"]))
    return max(others), max(drifts)


def report(ctx, rows, json_path):
    args = ctx["args"]
    print()
    print(f"keywarden benchmark ({'quick' if args.quick else 'full'} run: "
          f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s)")
    print(f"  cores {ctx['cores']} (= raw threads = actix workers = argon2 threads); "
          f"release binary {ctx['binary_size'] / 1e6:.2f} MB")
    if "start" in ctx:
        print(f"  start-up, exec -> /health/ready 200, median of {args.start_runs}:", end="")
        for kind, (med, lo, hi, hwm_kib) in ctx["start"].items():
            print(f"  {kind} DB {med * 1000:.1f} ms [{lo * 1000:.1f}..{hi * 1000:.1f}],"
                  f" idle VmHWM {mib(hwm_kib):.1f} MiB;", end="")
        print()
    print()
    if "load" in ctx:
        load = ctx["load"]
        print(f"Raw ceilings (mean of {args.raw_seconds:g} s just before and just after the "
              f"runs compared with them)")
        for name, raw in load["ceilings"].items():
            print(f"  {name:<22} {raw['per_s']:9.1f} /s   CPU {raw['cpu_ms_per_op']:6.3f} ms/op"
                  f"   drift {100 * raw['drift']:+5.1f} %   others {raw['other_cores']:.2f}"
                  f" cores")
        f = load["facts"]
        print(f"  ({f['users']} first-time users imported in {f['import_s']:.1f} s)")
        print()
        print_runs("Single-user runs (one server)", load["runs"])
    if "realistic" in ctx:
        f = ctx["realistic"]["facts"]
        print(f"Realistic traffic: {f['users']} users imported in {f['import_s']:.1f} s, "
              f"{f['identity_tokens']} identity tokens fetched in "
              f"{f['identity_tokens_s']:.1f} s; logins {args.login_rate:g}/s, admin writes "
              f"{args.admin_write_rate:g}/s; brute-force protection and events on")
        print_runs("", ctx["realistic"]["runs"])
        for name, b in ctx["realistic"]["background"].items():
            if b["first_error"]:
                print(f"  {name}: first failure: {b['first_error']}")
    print("Figures, ceilings, targets")
    print_rows(rows)
    other, drift = noise(ctx)
    print(f"  noise: other processes kept up to {other:.2f} cores busy during a measurement; "
          f"raw rates drifted up to {100 * drift:.0f} %")
    if other > NOISE_CORES:
        print(f"  warning: more than {NOISE_CORES} cores of other work; rates and ratios are "
              f"unreliable")
    if drift > DRIFT:
        print("  warning: the host's speed drifted during the run; ratios are unreliable")
    with open(json_path, "w") as f:
        json.dump({"rows": rows, "noise": {"other_cores": other, "drift": drift},
                   "errors": ctx["errors"], "sections": {k: ctx[k] for k in
                                                         ("load", "realistic", "start")
                                                         if k in ctx}}, f, indent=1,
                  default=str)
    print(f"  report as JSON: {json_path}")
