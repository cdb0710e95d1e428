#!/usr/bin/env bash
# job-scale.sh BACKEND PORT IMAGES_FOLDER [MORE_IMAGES_FOLDER...]
#
# One fresh start of the ingest job (bin/imsrc ingest, local mode) on a database that already holds
# a library (query-server's SyntheticLibrary), with FLINK_STATE_BACKEND=BACKEND and the local Flink's
# REST API on PORT. It watches an empty folder, so the job keeps running after its bootstrap; prints
#   - each admission subtask's bootstrap (the job's log line: images read, milliseconds),
#   - the launcher's heap after a full GC (jcmd) and its resident memory, after the bootstrap,
#   - the first completed checkpoint's size (state size; checkpointed = uploaded) and duration,
#   - after IMAGES_FOLDER (a labelled folder, e.g. 1,000 CIFAR-10 images) is copied into the watched
#     folder and stored: the size of the first checkpoint that completed after that; and so again
#     for each MORE_IMAGES_FOLDER,
#   - the RocksDB working directories' size on disk (rocksdb only).
# The database comes from DB_HOST, DB_PORT, DB_NAME, DB_USER in the environment; DATA_DIR, the
# watched folder and the job's log go under a temporary /tmp/imsrc-job-* folder, deleted at the end.
# Used for docs/benchmarks.md, "The job at scale". Needs curl, python3, psql, jcmd.
set -euo pipefail
backend=${1:?usage: job-scale.sh BACKEND PORT IMAGES_FOLDER}
port=${2:?usage: job-scale.sh BACKEND PORT IMAGES_FOLDER}
: "${3:?usage: job-scale.sh BACKEND PORT IMAGES_FOLDER [MORE_IMAGES_FOLDER...]}"
shift 2  # the image folders are left
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=$(mktemp -d /tmp/imsrc-job-XXXX)
mkdir -p "$work/watch"
count() { psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -tAc "SELECT count(*) FROM images"; }
checkpoints() { curl -sf "localhost:$port/jobs/$jid/checkpoints"; }
latest() {  # id state_size checkpointed_size end_to_end_duration of the latest completed checkpoint, or "0"
  checkpoints | python3 -c "import sys, json
c = json.load(sys.stdin)['latest']['completed']
print(' '.join(str(c[k]) for k in ('id', 'state_size', 'checkpointed_size', 'end_to_end_duration')) if c else 0)"
}
mb() { python3 -c "print(f'{$1 / 1e6:.1f} MB')"; }
report() {  # label "id state checkpointed ms"
  set -- "$1" $2
  echo "$1: checkpoint $2, state $(mb "$3"), checkpointed $(mb "$4"), $5 ms"
}

before=$(count)
echo "stored images: $before; backend $backend"
DATA_DIR="$work/data" FLINK_WEB_PORT=$port FLINK_STATE_BACKEND=$backend \
  "$root/bin/imsrc" ingest --watch "$work/watch" --no-bulk --no-uploads >"$work/job.log" 2>&1 &
launcher=$!
cleanup() {
  kill "$launcher" 2>/dev/null && wait "$launcher" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
subtasks=${FLINK_PARALLELISM:-$(nproc)}  # local mode: one admission subtask per core
until (( $(grep -c 'starts from' "$work/job.log") == subtasks )); do
  sleep 1
  kill -0 "$launcher" || { tail -30 "$work/job.log"; exit 1; }
done
grep -o 'Admission subtask.*' "$work/job.log"
java_pid=$launcher  # bin/imsrc execs java
jcmd "$java_pid" GC.run >/dev/null
echo "after the bootstrap: heap $(jcmd "$java_pid" GC.heap_info | grep -o 'used [0-9]*K' | head -1), \
RSS $(( $(awk '/VmRSS/{print $2}' "/proc/$java_pid/status") / 1024 )) MB"
jid=$(curl -sf "localhost:$port/jobs/overview" | python3 -c "import sys, json; print(json.load(sys.stdin)['jobs'][0]['jid'])")
until [[ "$(latest)" != 0 ]]; do sleep 1; done
report "first checkpoint" "$(latest)"
for folder in "$@"; do
  cp -r "$folder"/. "$work/watch/"
  added=$(( ${added:-0} + $(find "$folder" -type f | wc -l) ))
  until (( $(count) >= before + added )); do sleep 1; done
  stored=$(latest | cut -d' ' -f1)
  until [[ "$(latest)" != 0 ]] && (( $(latest | cut -d' ' -f1) > stored )); do sleep 1; done
  echo "after $added more images ($(( $(count) - before )) new rows):"
  report "  next checkpoint" "$(latest)"
done
if [[ $backend == rocksdb ]]; then
  echo "RocksDB on disk: $(du -scm /tmp/minicluster_*/tm_*/tmp/job_"${jid}"_* 2>/dev/null | tail -1 | cut -f1) MB"
fi
echo "RSS at the end $(( $(awk '/VmRSS/{print $2}' "/proc/$java_pid/status") / 1024 )) MB"
