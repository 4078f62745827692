#!/usr/bin/env python3
"""Draws LocalCacheBenchmark throughput by thread count as an SVG (standard library only).

Usage: lru-chart.py OUT.svg RESULTS.csv [MORE.csv ...]

One panel per benchmark (read_only, readwrite); in each, one line per implementation (the JMH
parameter `impl`), millions of operations per second against the thread count, with JMH's 99.9%
error as a bar at each point. The inputs are JMH CSV files (`-rf csv`), one per thread count.
"""
import csv
import sys
from collections import defaultdict

COLORS = {
    "CACHET_LRU": "#d62728",
    "SYNC_LINKED_HASH_MAP": "#7f7f7f",
    "CAFFEINE": "#1f77b4",
    "CACHET_TINY_LFU": "#2ca02c",
    "CACHET_TINY_LFU_NO_TTL": "#9467bd",
    "CONCURRENT_HASH_MAP": "#8c564b",
}
BENCHMARKS = ["read_only", "readwrite"]
PANEL_W, PANEL_H = 360, 260
MARGIN_L, MARGIN_T, MARGIN_B, GAP = 60, 50, 70, 40


def read(paths):
    points = defaultdict(dict)  # (benchmark, impl) -> {threads: (score, error)}
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                name = row["Benchmark"]
                if ":" in name:
                    continue
                bench = name.rsplit(".", 1)[1]
                error = row["Score Error (99.9%)"]
                points[(bench, row["Param: impl"])][int(row["Threads"])] = (
                    float(row["Score"]) / 1e6,
                    0.0 if error in ("", "NaN") else float(error) / 1e6,
                )
    return points


def svg(points):
    impls = sorted({impl for (_, impl) in points}, key=lambda i: list(COLORS).index(i) if i in COLORS else 99)
    threads = sorted({t for series in points.values() for t in series})
    width = MARGIN_L + len(BENCHMARKS) * (PANEL_W + GAP)
    height = MARGIN_T + PANEL_H + MARGIN_B
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">'
        "LocalCacheBenchmark: throughput by thread count (Zipf keys; 2 vCPUs, 4 threads oversubscribed)</text>",
    ]
    for p, bench in enumerate(BENCHMARKS):
        x0 = MARGIN_L + p * (PANEL_W + GAP)
        y0 = MARGIN_T
        top = max(
            [s + e for (b, _), series in points.items() if b == bench for (s, e) in series.values()] or [1]
        )
        top = nice(top)

        def px(i):
            return x0 + (i + 0.5) * PANEL_W / len(threads)

        def py(v):
            return y0 + PANEL_H - v / top * PANEL_H

        out.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 - 10}" text-anchor="middle" font-weight="bold">{bench}</text>')
        out.append(f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#333"/>')
        for k in range(6):
            v = top * k / 5
            y = py(v)
            out.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        for i, t in enumerate(threads):
            out.append(f'<text x="{px(i):.1f}" y="{y0 + PANEL_H + 16}" text-anchor="middle">{t}</text>')
        out.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 + PANEL_H + 34}" text-anchor="middle">threads</text>')
        out.append(
            f'<text transform="translate({x0 - 42},{y0 + PANEL_H / 2}) rotate(-90)" text-anchor="middle">'
            "million ops/s</text>"
        )
        for impl in impls:
            series = points.get((bench, impl), {})
            color = COLORS.get(impl, "#000")
            xy = [(px(threads.index(t)), py(s)) for t, (s, _) in sorted(series.items())]
            if len(xy) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
                out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
            for t, (s, e) in sorted(series.items()):
                x = px(threads.index(t))
                lo, hi = py(max(0.0, s - e)), py(s + e)
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{lo:.1f}" y2="{hi:.1f}" stroke="{color}"/>')
                out.append(f'<circle cx="{x:.1f}" cy="{py(s):.1f}" r="3.5" fill="{color}"/>')
    lx = MARGIN_L
    for impl in impls:
        y = height - 14
        out.append(f'<rect x="{lx}" y="{y - 9}" width="12" height="12" fill="{COLORS.get(impl, "#000")}"/>')
        out.append(f'<text x="{lx + 16}" y="{y + 1}">{impl}</text>')
        lx += 30 + 7.5 * len(impl)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def nice(v):
    for mag in (1, 10, 100, 1000):
        for step in (1, 2, 2.5, 5):
            if step * mag * 5 >= v:
                return step * mag * 5
    return v


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "w") as f:
        f.write(svg(read(argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
