#!/usr/bin/env bash
# Classic against quorum queues on RabbitMQ 3.10 (the host's) and 4.0 (trixie's, in a chroot):
# every K=2 variant on both queue types, both systems, the broker's fsyncs counted, then the
# table of bench/FINDINGS.md (_Quorum queues_). Needs root (chroot, perf).
#
# Usage: bench/scripts/quorum-queues.sh [bench options, default: --tasks 2000 --rounds 1]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly K2=k2-w1,k2-w10,k2-w10-1k,k2-w10-64k,k2-w1-rtt,k2-w1-tracking,k2-w10-tracking,k2-w10-api
(($#)) || set -- --tasks 2000 --rounds 1
npx tsc -b && npx tsc -p bench
files=()
status=0
for version in 3.10 4.0; do
  log=$(mktemp /tmp/tq-bench-quorum.XXXXXX)
  BENCH_BROKER_SYSCALLS=1 node --enable-source-maps bench/dist/main.js --rabbitmq "$version" \
    --queue-type classic,quorum --only "$K2" "$@" | tee "$log" || status=1
  files+=("$(grep -o 'bench/results/[^ ]*\.jsonl' "$log" | head -1)")
  rm -f "$log"
done
echo
node bench/dist/queue-type-table.js "${files[@]}"
exit "$status"
