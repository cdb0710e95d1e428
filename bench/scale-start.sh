#!/usr/bin/env bash
# scale-start.sh DATA_DIR PORT [LABEL]
#
# Starts `imsrc serve --no-uploads` on DATA_DIR (its embedded PostgreSQL, filled beforehand, e.g.
# by query-server's SyntheticLibrary) with the API on PORT, times it to /health/ready 200, prints
# how the index came to be (built or loaded, from the log), the server's resident memory and its
# heap before and after a full GC, then stops it with SIGTERM and waits for it to exit. Run it with
# no saved index for a fresh build, and again for a start from the index the first run saved.
# Environment (FAISS_INDEX_TYPE, FAISS_INDEX_PATH, JAVA_OPTS, ...) passes through; SERVE_ARGS replaces
# the serve command's arguments (default --no-uploads; empty for uploads through the embedded Kafka
# broker). Needs curl and jcmd.
set -euo pipefail
data=${1:?usage: scale-start.sh DATA_DIR PORT [LABEL]}
port=${2:?usage: scale-start.sh DATA_DIR PORT [LABEL]}
label=${3:-start}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log=$(mktemp /tmp/imsrc-scale-start.XXXXXX.log)
start=$(date +%s.%N)
DATA_DIR="$data" API_PORT="$port" "$root/bin/imsrc" serve ${SERVE_ARGS---no-uploads} >"$log" 2>&1 &
launcher=$!
until curl -sf "localhost:$port/health/ready" >/dev/null; do
  kill -0 "$launcher" 2>/dev/null || { echo "the server exited: see $log" >&2; exit 1; }
  sleep 0.1
done
ready=$(date +%s.%N)
pid=$launcher # bin/imsrc execs the JVM; never a pgrep, another server may be running
heap() { curl -s "localhost:$port/metrics" | awk '/^jvm_memory_used_bytes\{area="heap"\}/{printf "%.0f", $2 / 1e6}'; }
committed() { curl -s "localhost:$port/metrics" | awk '/^jvm_memory_committed_bytes\{area="heap"\}/{printf "%.0f", $2 / 1e6}'; }
rss() { awk '/VmRSS/{printf "%d", $2 / 1024}' "/proc/$pid/status"; }
echo "$label: ready in $(echo "$ready - $start" | bc) s"
grep -E "Built the|Loaded the saved" "$log" | sed 's/^.* INFO  IndexManager - /  /'
echo "  RSS $(rss) MB, heap in use $(heap) MB"
jcmd "$pid" GC.run >/dev/null
sleep 1
echo "  after a full GC: RSS $(rss) MB, heap in use $(heap) MB (committed $(committed) MB)"
kill "$launcher"
wait "$launcher" 2>/dev/null || true
echo "  log: $log"
