#!/usr/bin/env python3
"""bench/plot.py RESULTS_DIR OUT.svg: time against queue size for the main
commands, drawn from bench/run.sh's result files (the newest full-mode file
of each size), log-log, as a hand-written SVG so that the benchmark needs
nothing beyond python3's standard library. A straight line of slope 1 means
time grows linearly with the queue."""

import glob
import json
import math
import os
import sys

SERIES = [
    # (command name in the results, label, colour, dashed)
    ("qsurgeon list --sasl-user X --ids", "qsurgeon list --sasl-user X --ids", "#1f77b4", False),
    ("qsurgeon list --json", "qsurgeon list --json", "#2ca02c", False),
    ("qsurgeon summary", "qsurgeon summary", "#9467bd", False),
    ("qsurgeon delete --sasl-user X", "qsurgeon delete --sasl-user X", "#d62728", False),
    ("floor (open + read 4 KiB)", "floor: read 4 KiB of every file", "#7f7f7f", False),
    ("postqueue -j", "postqueue -j", "#2ca02c", True),
    ("grep -rl sasl_username=X", "grep -rl sasl_username=X", "#1f77b4", True),
    ("qshape", "qshape", "#9467bd", True),
    ("postqueue -p | grep | awk | postsuper -d -", "postqueue -p | grep | awk | postsuper -d -", "#d62728", True),
]


def newest_per_size(results_dir):
    chosen = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if r.get("mode") != "full":
            continue
        size = r["size"]
        if size not in chosen or r["date"] > chosen[size]["date"]:
            chosen[size] = r
    return chosen


def main():
    results_dir, out = sys.argv[1], sys.argv[2]
    runs = newest_per_size(results_dir)
    if not runs:
        print("plot.py: no full-mode results in " + results_dir, file=sys.stderr)
        return 1
    points = {}
    for size, r in runs.items():
        for res in r.get("warm") or []:
            points.setdefault(res["command"], []).append((size, res["median"]))
    series = [(points.get(name, []), label, colour, dashed) for name, label, colour, dashed in SERIES]
    series = [(sorted(p), label, colour, dashed) for p, label, colour, dashed in series if p]
    xs = [x for p, *_ in series for x, _ in p]
    ys = [y for p, *_ in series for _, y in p]
    x_lo, x_hi = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
    if x_lo == x_hi:
        x_hi *= 10
    y_lo, y_hi = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    if y_lo == y_hi:
        y_hi *= 10

    width, height = 900, 560
    left, right, top, bottom = 80, 330, 50, 60
    pw, ph = width - left - right, height - top - bottom

    def px(x):
        return left + pw * (math.log10(x) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo))

    def py(y):
        return top + ph * (1 - (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)))

    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def label_secs(y):
        return "%g ms" % (y * 1000) if y < 1 else "%g s" % y

    def label_count(x):
        return "%gM" % (x / 1e6) if x >= 1e6 else "%gk" % (x / 1e3) if x >= 1e3 else "%g" % x

    svg = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="%d" y="24" font-size="15">Median wall time against queue size (warm cache, log-log)</text>' % left,
    ]
    d = x_lo
    while d <= x_hi:
        svg.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (px(d), top, px(d), top + ph))
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (px(d), top + ph + 18, label_count(d)))
        d *= 10
    d = y_lo
    while d <= y_hi * 1.0001:
        svg.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, py(d), left + pw, py(d)))
        svg.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 6, py(d) + 4, label_secs(d)))
        d *= 10
    svg.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (left, top, pw, ph))
    svg.append('<text x="%.1f" y="%d" text-anchor="middle">messages in the queue</text>' % (left + pw / 2, height - 16))
    for i, (pts, label, colour, dashed) in enumerate(series):
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        path = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts)
        svg.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (path, colour, dash))
        for x, y in pts:
            svg.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s at %s</title></circle>'
                       % (px(x), py(y), colour, esc(label), label_secs(y), label_count(x)))
        ly = top + 10 + i * 22
        lx = left + pw + 20
        svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (lx, ly, lx + 30, ly, colour, dash))
        svg.append('<text x="%d" y="%d">%s</text>' % (lx + 38, ly + 4, esc(label)))
    note_y = top + 10 + len(series) * 22 + 14
    svg.append('<text x="%d" y="%d" fill="#555">solid: qsurgeon and the floor;</text>' % (left + pw + 20, note_y))
    svg.append('<text x="%d" y="%d" fill="#555">dashed: Postfix tools and pipelines</text>' % (left + pw + 20, note_y + 16))
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
