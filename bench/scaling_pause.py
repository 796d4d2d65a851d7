#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/scaling_pause.py - the routing pause per scale step, per protocol.

Reads the directories bench/scaling_pause.sh filled (one per group protocol,
each from one run of
tests/integration/it_router_scale_1_2_3_2_1_moves_only_changed_partitions.sh
with IT_SCALE_OUT): steps.tsv (when each step's action ran and when the group
settled), the replicas' logs (which partitions each released: SRC-0003) and
stream.jsonl (every stored event with its JetStream time and its Kafka-Topic
and Kafka-Partition headers).

The pause of a partition in a step is the longest gap between two of its
events stored in JetStream, over the gaps that end inside the step's window
(from its action to 3 s after the group settled), set against the
longest gap of any partition in the 2 s before the action (steady gap). The load is steady
(2500 events/s over 12 partitions, half of them critical: about 100 stored
per partition and second), so a gap well above 10 ms is routing that
stopped. Partitions are split into those released in the step (they moved,
or under eager were taken away and given back) and those kept.

Writes NAME.json, NAME.md and NAME.png (matplotlib) next to --out.
"""
import argparse
import json
import os
import re
import sys

WINDOW_AFTER_S = 3.0
BASELINE_S = 2.0
REL = re.compile(r'^ts=(\S+) .*id=SRC-0003 .*topic=(\S+) partition=(\d+)')


def iso_to_epoch(ts):
    # 2026-12-05T05:09:23.123Z
    import datetime
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def load_run(d):
    steps = []
    with open(os.path.join(d, "steps.tsv")) as f:
        next(f)
        for line in f:
            label, t0, t1, moved, stay_rel, rel = line.rstrip("\n").split("\t")
            steps.append({"step": label, "t_action": float(t0), "t_settled": float(t1),
                          "released_by_stayers": int(stay_rel), "released": int(rel)})
    releases = []  # (t, "topic[p]")
    for r in "abc":
        p = os.path.join(d, f"{r}.log")
        if not os.path.exists(p):
            continue
        with open(p, errors="replace") as f:
            for line in f:
                m = REL.match(line)
                if m:
                    releases.append((iso_to_epoch(m.group(1)), f"{m.group(2)}[{m.group(3)}]"))
    times = {}
    with open(os.path.join(d, "stream.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            h = m.get("headers", {})
            k = f"{h.get('Kafka-Topic')}[{h.get('Kafka-Partition')}]"
            times.setdefault(k, []).append(m["time_ns"] / 1e9)
    for v in times.values():
        v.sort()
    return steps, releases, times


def max_gap(ts, lo, hi):
    best = 0.0
    for i in range(1, len(ts)):
        if lo <= ts[i] <= hi:
            best = max(best, ts[i] - ts[i - 1])
    return best


def analyse(d):
    steps, releases, times = load_run(d)
    out = []
    for s in steps:
        lo, hi = s["t_action"], s["t_settled"] + WINDOW_AFTER_S
        moved = sorted({k for t, k in releases if lo <= t <= hi})
        kept = sorted(k for k in times if k not in moved)
        gm = [max_gap(times.get(k, []), lo, hi) for k in moved]
        gk = [max_gap(times[k], lo, hi) for k in kept]
        gb = [max_gap(times[k], lo - BASELINE_S, lo) for k in times]
        out.append(dict(s, moved=len(moved), kept=len(kept),
                        settle_s=round(s["t_settled"] - s["t_action"], 2),
                        pause_moved_max_s=round(max(gm, default=0.0), 3),
                        pause_kept_max_s=round(max(gk), 3) if gk else None,
                        baseline_max_gap_s=round(max(gb, default=0.0), 3)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output path without extension")
    ap.add_argument("runs", nargs="+", help="PROTOCOL=DIR")
    o = ap.parse_args()
    res = {}
    for spec in o.runs:
        proto, d = spec.split("=", 1)
        res[proto] = analyse(d)
    with open(o.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    protos = list(res)
    md = ["| step | " + " | ".join(
        f"{p}: released / pause moved / pause kept / steady gap" for p in protos) + " |",
        "|---|" + "---|" * len(protos)]
    for i, s in enumerate(res[protos[0]]):
        cells = []
        for p in protos:
            r = res[p][i]
            kept = "-" if r["pause_kept_max_s"] is None else f"{r['pause_kept_max_s']:.2f} s"
            cells.append(f"{r['released']} / {r['pause_moved_max_s']:.2f} s / {kept} / "
                         f"{r['baseline_max_gap_s']:.2f} s")
        md.append(f"| {s['step']} | " + " | ".join(cells) + " |")
    tot = {p: sum(r["released"] for r in res[p]) for p in protos}
    md.append("")
    md.append("Partitions released over the four steps: " +
              ", ".join(f"{p} {tot[p]}" for p in protos) + ".")
    with open(o.out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("scaling_pause.py: matplotlib missing (apt-get install python3-matplotlib); "
              "no plot", file=sys.stderr)
        return 0
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    labels = [s["step"] for s in res[protos[0]]]
    w = 0.8 / len(protos)
    for j, p in enumerate(protos):
        xs = [i + (j - (len(protos) - 1) / 2) * w for i in range(len(labels))]
        axes[0].bar(xs, [r["pause_moved_max_s"] for r in res[p]], w, label=p)
        axes[0].plot(xs, [r["baseline_max_gap_s"] for r in res[p]], "k_", markersize=12,
                     label="steady gap (2 s before)" if j == 0 else None)
        axes[1].bar(xs, [r["released"] for r in res[p]], w, label=p)
    axes[0].set_title("longest pause of a released partition (s)")
    axes[1].set_title("partitions released in the step")
    for a in axes:
        a.set_xticks(range(len(labels)))
        a.set_xticklabels([f"{x} replicas" for x in labels])
        a.legend()
    fig.suptitle("Scaling 1→2→3→2→1 replicas under 2500 events/s, 12 partitions")
    fig.tight_layout()
    fig.savefig(o.out + ".png", dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
