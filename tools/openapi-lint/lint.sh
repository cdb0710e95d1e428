#!/usr/bin/env bash
# Lints an OpenAPI document with Spectral's recommended OpenAPI rules (spectral:oas) and fails on
# any finding, warnings included. The document the server serves is written to
# query-server/target/openapi.json by QueryServerITCase; .ci/run lints it after the tests.
#   tools/openapi-lint/lint.sh [document]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
document="$(realpath "${1:-$here/../../query-server/target/openapi.json}")"
cd "$here"
[[ -x node_modules/.bin/spectral ]] || npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=hint "$document"
