#!/usr/bin/env python3
"""Turns the raw per-run CSV of bench/run.sh into the results table (markdown + CSV).

  report.py load RUNS_CSV META_FILE OUT_PREFIX   -> OUT_PREFIX.md, OUT_PREFIX.csv; prints the md
  report.py idle ROWS_CSV META_FILE OUT_PREFIX   -> OUT_PREFIX-idle.md, OUT_PREFIX-idle.csv
  report.py scaling RUN_DIR META_FILE OUT_PREFIX  -> OUT_PREFIX-scaling.md, OUT_PREFIX-scaling.csv
      (RUN_DIR holds one folder per worker count, w<N>/, each with one load run's results)
  report.py chart RESULTS_CSV OUT_SVG            -> a chart of a load table (OUT_PREFIX.csv):
      req/s and p99 per target, grouped by connection count, one row per mix (`load` draws it too)

Every figure of the load table is the median over the repetitions of that cell, each metric taken
on its own (the median p99 is the median of the runs' p99s). The ratio is the target's median
req/s divided by nginx's median req/s for the same connections and mix.
"""
import csv
import glob
import html
import os
import re
import statistics
import sys

TARGET_ORDER = ["direct", "gateway", "gateway-uring", "gateway-limits", "gateway-redis", "gateway-jwt", "nginx", "haproxy", "nginx-lean", "haproxy-lean",
                "gateway-tls", "nginx-tls"]
MIX_ORDER = ["allowed", "mixed"]


def read_meta(path):
    meta = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                meta.append((k, v))
    return meta


def meta_block(meta):
    return "\n".join(f"| {k} | {v} |" for k, v in meta)


def ms(us):
    return f"{us / 1000:.3f}"


def load(runs_csv, meta_path, prefix):
    with open(runs_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cells = {}
    for r in rows:
        cells.setdefault((r["target"], int(r["conns"]), r["mix"]), []).append(r)

    def med(rs, key):
        return statistics.median(float(r[key]) for r in rs)

    out = []
    for (target, conns, mix), rs in cells.items():
        requests = sum(float(r["requests"]) for r in rs)
        out.append({
            "target": target, "conns": conns, "mix": mix, "runs": len(rs),
            "rps": med(rs, "rps"), "p50_us": med(rs, "p50_us"), "p99_us": med(rs, "p99_us"),
            "p999_us": med(rs, "p999_us"), "rss_kib": med(rs, "rss_kib"),
            "non2xx_pct": 100.0 * sum(float(r["non2xx"]) for r in rs) / requests if requests else 0.0,
            "errors": int(sum(float(r["errors"]) for r in rs)),
            # Older runs files have no CPU column.
            "cpu_us": med(rs, "cpu_us_per_req") if all(r.get("cpu_us_per_req") for r in rs) else None,
        })
    # A TLS target is compared with nginx over TLS (nginx-tls), the others with plain nginx.
    nginx = {(o["target"] == "nginx-tls", o["conns"], o["mix"]): o["rps"] for o in out
             if o["target"] in ("nginx", "nginx-tls")}
    for o in out:
        base = nginx.get((o["target"].endswith("-tls"), o["conns"], o["mix"]))
        o["ratio"] = o["rps"] / base if base else None
    # The hand-written nginx for only the bench's routes (bench/gen_peers.py nginx-lean).
    lean = {(o["conns"], o["mix"]): o["rps"] for o in out if o["target"] == "nginx-lean"}
    for o in out:
        base = None if o["target"].endswith("-tls") else lean.get((o["conns"], o["mix"]))
        o["ratio_lean"] = o["rps"] / base if base else None

    def order(o):
        t = TARGET_ORDER.index(o["target"]) if o["target"] in TARGET_ORDER else 99
        m = MIX_ORDER.index(o["mix"]) if o["mix"] in MIX_ORDER else 99
        return (m, o["conns"], t)

    out.sort(key=order)
    header = ("| target | conns | mix | req/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | "
              "vs nginx | vs nginx-lean | CPU µs/req | non-2xx % | errors | runs |")
    lines = [header, "|" + "---|" * 14]
    for o in out:
        ratio = f"{o['ratio']:.2f}" if o["ratio"] is not None else "–"
        ratio_lean = f"{o['ratio_lean']:.2f}" if o["ratio_lean"] is not None else "–"
        cpu = f"{o['cpu_us']:.1f}" if o["cpu_us"] is not None else "–"
        lines.append(
            f"| {o['target']} | {o['conns']} | {o['mix']} | {o['rps']:.0f} | {ms(o['p50_us'])} | "
            f"{ms(o['p99_us'])} | {ms(o['p999_us'])} | {o['rss_kib'] / 1024:.1f} | {ratio} | {ratio_lean} | {cpu} | "
            f"{o['non2xx_pct']:.1f} | {o['errors']} | {o['runs']} |")
    meta = read_meta(meta_path)
    md = ("# giosg-gateway load benchmark\n\n"
          "| | |\n|---|---|\n" + meta_block(meta) + "\n\n" + "\n".join(lines) + "\n\n"
          "Medians over the runs of each cell. Latencies from wrk (p99.9 via its Lua `done`); "
          "peak RSS is VmHWM of the proxy's processes (nginx: master + worker), a fresh process per "
          "run; `vs nginx` is req/s over nginx's req/s for the same conns and mix (`vs nginx-lean`: "
          "over the hand-written lean nginx's); `non-2xx %` "
          "should be 0 for `allowed` and 50 for `mixed` (25 % 405 + 25 % 401); `errors` are wrk "
          "socket errors and timeouts. `CPU µs/req` is the proxy's user + system CPU time "
          "(its processes, from /proc, 10 ms ticks) during the measured run over the requests "
          "wrk counted: the cost per request, which a saturated proxy CPU turns into req/s. `direct` is wrk straight to the upstream (the ceiling), "
          "measured for `allowed` only.\n")
    with open(prefix + ".md", "w", encoding="utf-8") as f:
        f.write(md)
    with open(prefix + ".csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["target", "conns", "mix", "rps_median", "p50_ms", "p99_ms", "p999_ms",
                    "peak_rss_mib", "ratio_to_nginx", "ratio_to_nginx_lean", "cpu_us_per_req", "non2xx_pct", "errors",
                    "runs"])
        for o in out:
            w.writerow([o["target"], o["conns"], o["mix"], f"{o['rps']:.1f}", ms(o["p50_us"]),
                        ms(o["p99_us"]), ms(o["p999_us"]), f"{o['rss_kib'] / 1024:.2f}",
                        f"{o['ratio']:.3f}" if o["ratio"] is not None else "",
                        f"{o['ratio_lean']:.3f}" if o["ratio_lean"] is not None else "",
                        f"{o['cpu_us']:.2f}" if o["cpu_us"] is not None else "",
                        f"{o['non2xx_pct']:.2f}", o["errors"], o["runs"]])
    chart(prefix + ".csv", prefix + ".svg")
    with open(prefix + ".md", "a", encoding="utf-8") as f:
        f.write(f"\n![req/s and p99 per target]({os.path.basename(prefix)}.svg)\n")
    print(md)


def idle(rows_csv, meta_path, prefix):
    with open(rows_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = ["| target | connections held | failed | RSS before MiB | RSS held MiB | VmHWM MiB | "
             "KiB per connection | closed by proxy | target ≤ 200 MiB |", "|" + "---|" * 9]
    for r in rows:
        held = int(r["held"])
        before = float(r["rss_before_kib"])
        after = float(r["rss_held_kib"])
        per = (after - before) / held if held else 0.0
        verdict = ""
        if r["target"] == "gateway":
            verdict = "pass" if after <= 200 * 1024 else "FAIL"
        lines.append(f"| {r['target']} | {held} | {r['failed']} | {before / 1024:.1f} | "
                     f"{after / 1024:.1f} | {float(r['hwm_kib']) / 1024:.1f} | {per:.1f} | "
                     f"{r['closed_by_peer']} | {verdict} |")
    meta = read_meta(meta_path)
    md = ("# giosg-gateway idle-connection memory\n\n| | |\n|---|---|\n" + meta_block(meta) + "\n\n" +
          "\n".join(lines) + "\n\n"
          "Each connection sent one authenticated keep-alive request (200) and then stayed idle. "
          "RSS is VmRSS of the proxy's processes (nginx: master + worker) after one request "
          "(before) and with every connection held (held); KiB per connection = (held − before) "
          "/ connections held.\n")
    with open(prefix + "-idle.md", "w", encoding="utf-8") as f:
        f.write(md)
    with open(prefix + "-idle.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(list(rows[0].keys()) if rows else [])
        for r in rows:
            w.writerow(list(r.values()))
    print(md)


def md_meta(path):
    """The `| key | value |` rows of a load table's header."""
    meta = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\| ([a-z_]+) \| (.*) \|$", line.rstrip("\n"))
            if m:
                meta[m.group(1)] = m.group(2)
    return meta


def scaling(run_dir, meta_path, prefix):
    rows = []
    spread = {}  # workers -> the gateway's connections per worker, one "a/b/…" per run
    for d in glob.glob(os.path.join(run_dir, "w*")):
        m = re.fullmatch(r"w(\d+)", os.path.basename(d))
        tables = [t for t in glob.glob(os.path.join(d, "*.csv")) if not t.endswith("-runs.csv")]
        if not m or len(tables) != 1:
            continue
        workers = int(m.group(1))
        meta = md_meta(tables[0][:-len(".csv")] + ".md")
        spread[workers] = []
        for runs in glob.glob(os.path.join(d, "*-runs.csv")):
            with open(runs, newline="", encoding="utf-8") as f:
                spread[workers] += [r["conns_by_worker"] for r in csv.DictReader(f)
                                    if r["target"] == "gateway" and r.get("conns_by_worker")]
        with open(tables[0], newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                rows.append({"workers": workers, "pinning": meta.get("pinning", ""),
                             "load": meta.get("load", ""), **r})
    if not rows:
        print(f"no load results under {run_dir}", file=sys.stderr)
        sys.exit(1)
    targets = [t for t in TARGET_ORDER if any(r["target"] == t for r in rows)]
    widths = sorted({r["workers"] for r in rows})
    cell = {(r["workers"], r["target"]): r for r in rows}
    base = {t: float(cell[(widths[0], t)]["rps_median"]) for t in targets if (widths[0], t) in cell}

    header = ["workers", "conns"]
    for t in targets:
        header += [f"{t} req/s", f"{t} p99 ms", f"{t} × {widths[0]}w", f"{t} CPU µs/req"]
    header += ["gateway ÷ nginx", "gateway conns per worker", "pinning"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    csv_rows = []
    for w in widths:
        present = [cell[(w, t)] for t in targets if (w, t) in cell]
        out = [str(w), present[0]["conns"] if present else ""]
        rec = {"workers": w, "conns": out[1]}
        for t in targets:
            r = cell.get((w, t))
            if r is None:
                out += ["–", "–", "–", "–"]
                continue
            rps = float(r["rps_median"])
            speedup = rps / base[t] if base.get(t) else None
            cpu = r.get("cpu_us_per_req") or ""
            out += [f"{rps:.0f}", r["p99_ms"], f"{speedup:.2f}" if speedup else "–", cpu or "–"]
            rec[f"{t}_rps"] = f"{rps:.1f}"
            rec[f"{t}_p99_ms"] = r["p99_ms"]
            rec[f"{t}_speedup"] = f"{speedup:.3f}" if speedup else ""
            rec[f"{t}_cpu_us_per_req"] = cpu
        g, n = cell.get((w, "gateway")), cell.get((w, "nginx"))
        ratio = float(g["rps_median"]) / float(n["rps_median"]) if g and n and float(n["rps_median"]) else None
        out += [f"{ratio:.2f}" if ratio else "–", "; ".join(spread.get(w, [])) or "–",
                present[0]["pinning"] if present else ""]
        rec["gateway_over_nginx"] = f"{ratio:.3f}" if ratio else ""
        rec["gateway_conns_by_worker"] = "; ".join(spread.get(w, []))
        lines.append("| " + " | ".join(out) + " |")
        csv_rows.append(rec)
    md = ("# giosg-gateway multi-core scaling\n\n| | |\n|---|---|\n" + meta_block(read_meta(meta_path)) +
          "\n\n" + "\n".join(lines) + "\n\n"
          f"Each row is one `bench/run.sh load` (allowed traffic, medians of its runs) with that many "
          f"proxy workers (gateway `workers`, nginx `worker_processes`, HAProxy `nbthread`) and "
          f"connections in proportion; `× {widths[0]}w` is the req/s over the same proxy's at "
          f"{widths[0]} worker(s); `CPU µs/req` is the proxy's user + system CPU time per request, "
          f"which stays flat as workers are added when they do not contend with each other (locks, "
          f"shared cache lines, accept imbalance), also where the machine has too few CPUs for req/s "
          f"to scale; `gateway conns per worker` is how the kernel's SO_REUSEPORT hashing spread "
          f"wrk's connections over the gateway's workers in each run (from its /metrics; wrk adds one "
          f"probe connection at start), which "
          f"bounds what the busiest worker must carry; each width's full table is beside this one (`…-w<N>.md`).\n")
    with open(prefix + "-scaling.md", "w", encoding="utf-8") as f:
        f.write(md)
    with open(prefix + "-scaling.csv", "w", newline="", encoding="utf-8") as f:
        fields = sorted({k for rec in csv_rows for k in rec}, key=lambda k: (k != "workers", k != "conns", k))
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(csv_rows)
    print(md)


# The chart is SVG written here rather than a PNG from matplotlib: Debian 12's python3-matplotlib
# depends (fonttools -> scipy -> pythran) on libboost-dev 1.74, which conflicts with the
# libboost1.81-dev the gateway builds with.
PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c",
           "#ccb974", "#64b5cd"]


def chart(results_csv, out_svg):
    with open(results_csv, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["target"] != "direct"]
    if not rows:
        return
    order = lambda t: TARGET_ORDER.index(t) if t in TARGET_ORDER else 99
    targets = sorted({r["target"] for r in rows}, key=order)
    mixes = sorted({r["mix"] for r in rows}, key=lambda m: MIX_ORDER.index(m) if m in MIX_ORDER else 99)
    conns = sorted({int(r["conns"]) for r in rows})
    cell = {(r["target"], int(r["conns"]), r["mix"]): r for r in rows}
    panels = [("req/s", "rps_median", 1.0), ("p99 ms", "p99_ms", 1.0)]
    pw, ph, pad, top = 460, 240, 60, 40
    width = pad + len(panels) * (pw + pad)
    height = top + len(mixes) * (ph + 70) + 30 + 18 * ((len(targets) + 3) // 4)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{pad}" y="22" font-size="14">giosg-gateway and its peers: '
           f'{html.escape(os.path.basename(results_csv))}</text>']
    for mi, mix in enumerate(mixes):
        y0 = top + mi * (ph + 70)
        for pi, (label, key, _) in enumerate(panels):
            x0 = pad + pi * (pw + pad)
            values = [float(cell[(t, c, mix)][key]) for t in targets for c in conns
                      if (t, c, mix) in cell and cell[(t, c, mix)][key]]
            vmax = max(values) if values else 1.0
            out.append(f'<text x="{x0}" y="{y0 + 14}" font-size="12">{html.escape(label)}, {html.escape(mix)}</text>')
            base = y0 + 20 + ph
            out.append(f'<line x1="{x0}" y1="{base}" x2="{x0 + pw}" y2="{base}" stroke="black"/>')
            for frac in (0.5, 1.0):
                y = base - frac * (ph - 10)
                out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + pw}" y2="{y:.1f}" stroke="#ddd"/>')
                out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{vmax * frac:,.0f}</text>'
                           if vmax * frac >= 100 else
                           f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{vmax * frac:.1f}</text>')
            group = pw / len(conns)
            bar = (group - 12) / len(targets)
            for ci, c in enumerate(conns):
                gx = x0 + ci * group + 6
                out.append(f'<text x="{gx + (group - 12) / 2:.1f}" y="{base + 14}" text-anchor="middle">'
                           f'{c} conns</text>')
                for ti, t in enumerate(targets):
                    r = cell.get((t, c, mix))
                    if r is None or not r[key]:
                        continue
                    v = float(r[key])
                    h = (ph - 10) * v / vmax if vmax else 0
                    out.append(f'<rect x="{gx + ti * bar:.1f}" y="{base - h:.1f}" width="{max(bar - 1, 1):.1f}" '
                               f'height="{h:.1f}" fill="{PALETTE[ti % len(PALETTE)]}">'
                               f'<title>{html.escape(t)} {c} conns {html.escape(mix)}: {v:g}</title></rect>')
    ly = top + len(mixes) * (ph + 70)
    for ti, t in enumerate(targets):
        lx = pad + (ti % 4) * 170
        y = ly + (ti // 4) * 18
        out.append(f'<rect x="{lx}" y="{y - 10}" width="12" height="12" fill="{PALETTE[ti % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 16}" y="{y}">{html.escape(t)}</text>')
    out.append("</svg>")
    with open(out_svg, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    modes = {"load": load, "idle": idle, "scaling": scaling, "chart": chart}
    if sys.argv[1:2] == ["chart"] and len(sys.argv) == 4:
        chart(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) != 5 or sys.argv[1] not in modes:
        print(__doc__, file=sys.stderr)
        return 2
    modes[sys.argv[1]](*sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
