#!/usr/bin/env bash
# Faults under load (issue 16), longer than the test command's short run and in a release
# build, with the figures printed: SIGKILL during a pixel load (SQLite, PostgreSQL), a
# private PostgreSQL stopped and started under load, the mail relay down while alerts queue.
#   tests/faults/run.sh                 # 30 s per load
#   FAULT_SECONDS=10 tests/faults/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo xtask setup >/dev/null # the SMTP sink's Python
LEAKWATCH_FAULT_SECONDS="${FAULT_SECONDS:-30}" \
  cargo nextest run --release -p leakwatch-cli --test faults --no-capture
