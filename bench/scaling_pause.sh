#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/scaling_pause.sh [NAME] - the routing pause when replicas join and
# leave, old protocol against new, in one run: the scaling test
# (1 -> 2 -> 3 -> 2 -> 1 replicas under a steady load) once per group
# protocol, eager (classic + range: what librdkafka 2.0.2 gave),
# cooperative (classic + cooperative-sticky) and consumer (KIP-848, the
# default), then bench/scaling_pause.py. Writes
# docs/benchmarks/NAME.{json,md,png} (default NAME: scaling-pause).
# Needs the clusters (deploy/local/cluster up) and build/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
name=${1:-scaling-pause}
eval "$(deploy/local/cluster env)"
ninja -C build >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/er-scaling-pause.XXXXXX")
runs=()
py=python3 # Debian's, with python3-matplotlib (install-deps), if another is first in PATH
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
for p in eager cooperative consumer; do
    echo "== $p" >&2
    IT_SCALE_PROTOCOL=$p IT_SCALE_OUT=$work/$p ER_SOURCE_DIR=$PWD ER_BUILD_DIR=$PWD/build \
        bash tests/integration/it_router_scale_1_2_3_2_1_moves_only_changed_partitions.sh 2>&1 |
        grep -E 'PASS|FAIL|released' >&2
    runs+=("$p=$work/$p")
done
"$py" bench/scaling_pause.py --out "docs/benchmarks/$name" "${runs[@]}"
cat "docs/benchmarks/$name.md"
echo "raw data kept in $work" >&2
