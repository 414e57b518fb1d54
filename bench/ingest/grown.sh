#!/bin/bash
# The half-rate latency of a collector whose store has grown: WARMS seconds (default 30) at
# saturation with wrk, then bench/loadgen open loop at RATE req/s for 8 s, batches of 10.
#
# usage: bench/ingest/grown.sh BIN RATE LABEL   (BIN: a sieve-collector binary)
# env: GENFROM=DIR reuse batches made by gen-batches.mjs; WARMS=S.
# Prints loadgen's p50/p99 from the scheduled send and from the actual send (service_*).
# Needs wrk, node, python3 and bench/target/release/sieve-bench-loadgen. BENCHMARKS.md, "Ingest,
# eighth round". Not part of scripts/bench: an A B A B tool.
set -e
BIN=$1; RATE=$2; LABEL=$3
. "$(dirname "$0")/start.sh"
BODY=$BATCHDIR/batch-10.tmpl NONCE=$(printf '%016x' $RANDOM$RANDOM$(date +%N)) \
  wrk -t2 -c32 -d${WARMS:-30}s -s $ROOT/bench/ingest/post.lua "$URL" >/dev/null
R=$($ROOT/bench/target/release/sieve-bench-loadgen --url "$URL" --body $BATCHDIR/batch-10.tmpl \
  --rate $RATE --duration 8 --connections 64)
echo "$LABEL: $(echo "$R" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print({k:v for k,v in d.items() if "p99" in k or "p50" in k})')"
