#!/bin/sh
# The imsrc image's entry point: the launcher with its arguments (serve, ingest, reindex, migrate, ...).
# DJL never downloads: the CPU build of PyTorch is in the class path.
set -e
# FAISS_INDEX_PATH may name the container: {hostname} becomes its host name (in compose, the
# container's id). Replicas of one compose service share their environment, yet each needs an index
# path of its own: the path keys the saved index's row in PostgreSQL (table faiss), and replicas
# under one path would each find the row the last one wrote and rebuild at every start.
case "${FAISS_INDEX_PATH:-}" in
  *"{hostname}"*)
    FAISS_INDEX_PATH=$(printf '%s\n' "$FAISS_INDEX_PATH" | sed "s|{hostname}|$(uname -n)|g")
    export FAISS_INDEX_PATH
    ;;
esac
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java ${JAVA_OPTS} -Dai.djl.offline=true -Dlog4j2.configurationFile=classpath:imsrc/log4j2-launcher.xml \
  -cp '/opt/imsrc/lib/*' io.imsrc.launcher.Imsrc "$@"
