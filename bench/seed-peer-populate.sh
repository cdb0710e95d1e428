#!/usr/bin/env bash
# seed-peer-populate.sh SPLIT [LIMIT] [--keep]
#
# Runs the seed-peer baseline's populate (../shared/bench/seed-peer, the original design's Python
# stack) on one split of the unpacked CIFAR-10 JPEG archive, for IngestBenchmark to measure beside
# imsrc. Resets the baseline's database first unless --keep is given (to add the test split to the
# training split, as one 60,000-image ingest). Prints populate's own line ("populated N images in
# Ts: R images/s") and the wall time of the whole Python process ("wall T s").
#
# Needs Debian's python3-torch python3-pil python3-numpy python3-psycopg2 python3-faiss and a
# PostgreSQL on 127.0.0.1:5432 with user postgres/postgres and a database seedpeer (see the
# seed-peer README). The archive is unpacked once into $SEEDPEER_DATA (default /tmp/seedpeer-data).
set -euo pipefail

split=${1:?usage: seed-peer-populate.sh SPLIT [LIMIT] [--keep]}
limit=${2:-}
keep=${3:-}
[[ "$limit" == "--keep" ]] && { keep=--keep; limit=""; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$(cd "$root/../shared" && pwd)"
data=${SEEDPEER_DATA:-/tmp/seedpeer-data}

if [[ ! -d "$data/cifar-10-jpg/$split" ]]; then
  mkdir -p "$data"
  tar -xzf "$shared/datasets/cifar-10-jpg.tar.gz" -C "$data"
fi
if [[ "$keep" != "--keep" ]]; then
  PGPASSWORD=postgres psql -q -h 127.0.0.1 -U postgres -d seedpeer \
    -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS vectors, _category_prototypes, images, categories CASCADE" >/dev/null
fi
cd "$shared/bench/seed-peer"
start=$(date +%s%N)
/usr/bin/python3 seed_peer.py populate "$data/cifar-10-jpg" "$split" $limit
end=$(date +%s%N)
awk -v ns=$((end - start)) 'BEGIN { printf "wall %.1f s\n", ns / 1e9 }'
