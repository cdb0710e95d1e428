#!/bin/sh
# The imsrc image's entry point: the launcher with its arguments (serve, ingest, reindex, migrate, ...).
# DJL never downloads: the CPU build of PyTorch is in the class path.
set -e
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java ${JAVA_OPTS} -Dai.djl.offline=true -Dlog4j2.configurationFile=classpath:imsrc/log4j2-launcher.xml \
  -cp '/opt/imsrc/lib/*' io.imsrc.launcher.Imsrc "$@"
