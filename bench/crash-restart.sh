#!/usr/bin/env bash
# crash-restart.sh [DATA_DIR]
#
# A hard crash in the middle of the full ingest, measured: starts bin/imsrc on all 50,000 training
# images of the CIFAR-10 JPEG copy (../shared/datasets) with an empty DATA_DIR (default
# /tmp/imsrc-crash), kills the launcher with SIGKILL once /status counts 25,000 vectors, then starts
# bin/imsrc again on the same data and prints: when the kill came and what was stored, how long
# the embedded PostgreSQL outlived the launcher, when the second start answered, recorded the
# source and had everything searchable, its last progress line, the final counts, and its ERROR
# lines. Uses ports 8000 and 8081; needs curl and python3. docs/benchmarks.md has its results.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
D=${1:-/tmp/imsrc-crash}
rm -rf "$D"; mkdir -p "$D"
export DATA_DIR=$D CIFAR10_SOURCE='../shared/datasets/cifar-10-jpg.tar.gz#cifar-10-jpg/train' API_PORT=8000 \
  FLINK_WEB_PORT=8081
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(now)" "$1"; }
status() { curl -s localhost:8000/status | python3 -c "import sys,json; print(json.load(sys.stdin)$1)" 2>/dev/null; }

t0=$(now)
bin/imsrc > "$D/first.out" 2> "$D/first.err" &
pid=$!
until [ "$(status '["counts"]["vectors"]' || echo 0)" -ge 25000 ] 2>/dev/null; do sleep 0.2; done
at_kill=$(status '["counts"]["vectors"]')
postmaster=$(head -1 "$D/postgres/postmaster.pid")
tk=$(now); kill -9 "$pid"
echo "first run: killed after $(since "$t0") s, /status counting $at_kill vectors"
while kill -0 "$postmaster" 2>/dev/null; do sleep 0.05; done
echo "embedded PostgreSQL (pid $postmaster) gone $(since "$tk") s after the kill"

t1=$(now)
bin/imsrc > "$D/second.out" 2> "$D/second.err" &
pid=$!
until curl -sf localhost:8000/health/live > /dev/null; do sleep 0.2; done
echo "second run: API answering after $(since "$t1") s"
until grep -q "read to the end" "$D/second.out"; do sleep 0.5; done
echo "second run: source recorded after $(since "$t1") s"
until [ "$(status '["index"]["vectors"]')" = 50000 ]; do sleep 0.5; done
echo "second run: 50,000 searchable after $(since "$t1") s"
until grep -q "of them new in this run" "$D/second.out"; do sleep 0.5; done
grep "of them new in this run" "$D/second.out"
echo "counts: $(status '["counts"]')"
curl -s localhost:8000/categories | python3 -c \
  'import sys,json; c=json.load(sys.stdin)["categories"]; print("categories:", len(c), "images each:", sorted({x["image_count"] for x in c}))'
kill -TERM "$pid"; wait "$pid"; echo "stopped: exit $?"
echo "ERROR lines in the second run: $(grep -c ' ERROR ' "$D/second.err")"
