#!/usr/bin/env bash
# scale-status.sh PORT
#
# Waits until the query server on localhost:PORT has every stored vector in its index, then times
# GET /status and GET /categories (20 calls each; median and max) and prints the server's resident
# memory. Used with the synthetic library (query-server's SyntheticLibrary) for the scale figures
# in docs/benchmarks.md. Needs curl and python3.
set -euo pipefail
port=${1:?usage: scale-status.sh PORT}
until python3 - "$port" <<'PY'
import sys, json, urllib.request
d = json.load(urllib.request.urlopen(f"http://localhost:{sys.argv[1]}/status"))
sys.exit(0 if d['counts'] and d['index']['vectors'] == d['counts']['vectors'] else 1)
PY
do sleep 2; done
for path in /status /categories; do
  python3 - "$port" "$path" <<'PY'
import sys, time, statistics, urllib.request
port, path = sys.argv[1], sys.argv[2]
t = []
for _ in range(20):
    s = time.perf_counter()
    urllib.request.urlopen(f"http://localhost:{port}{path}").read()
    t.append((time.perf_counter() - s) * 1000)
print(f"{path}: median {statistics.median(t):.1f} ms, max {max(t):.1f} ms")
PY
done
# the server's own process metric: a pgrep could find another server on this machine
curl -s "localhost:$port/metrics" | awk '/^process_resident_memory_bytes /{printf "serve RSS: %d MB\n", $2 / 1048576}'
curl -s "localhost:$port/status" | python3 -c "import sys, json; d = json.load(sys.stdin); print('vectors', d['counts']['vectors'], 'in the index', d['index']['vectors'])"
