#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Plot what `ordering: key` costs against `ordering: none`, from bench/run
--ab-ordering none result files (JSON), one per key count.

  bench/plot_ordering.py OUT.png LABEL=FILE.json [LABEL=FILE.json ...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    out, runs = argv[1], [a.split("=", 1) for a in argv[2:]]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xt, xl, x = [], [], 0
    for label, path in runs:
        with open(path) as f:
            data = json.load(f)
        for pair in data["pairs"]:
            for i, rep in enumerate(pair["reps"]):
                key, none = rep["router"]["publish_eps"], rep["router_b"]["publish_eps"]
                ax.bar(x - 0.2, key, 0.4, color="tab:blue", label="ordering: key" if x == 0 else None)
                ax.bar(x + 0.2, none, 0.4, color="tab:gray",
                       label="ordering: none" if x == 0 else None)
                ax.text(x, max(key, none) * 1.02, f"{key / none:.2f}", ha="center", fontsize=8)
                xt.append(x)
                xl.append(f"{label}\nR{pair['replicas']} rep {i + 1}")
                x += 1
        x += 0.5
    ax.set_xticks(xt, xl, fontsize=7)
    ax.set_ylabel("JetStream messages stored / s")
    ax.set_title("ordering: key against ordering: none, same pairs (ratio above the bars)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv)
