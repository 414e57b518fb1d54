# Sourced by bench/ingest/threads.sh and grown.sh: start BIN (a sieve-collector binary, or
# "bare" for bench/bare) on a fresh data directory with the benchmark's config, wait until it
# listens, and make batches of 10 (or take them from GENFROM=DIR). Sets ROOT, W, PID, BASE, URL
# and BATCHDIR; the process and its directory go when the calling script exits.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
W=$(mktemp -d)
cat > $W/sieve.toml <<T
schema = "$ROOT/bench/schema.json"
listen = "127.0.0.1:0"
data_dir = "$W/data"
write_keys = ["wk_bench_ingest_01"]
rate_per_second = 1000000000.0
rate_burst = 1000000000.0
T
if [ "$BIN" = bare ]; then
  $ROOT/bench/target/release/sieve-bench-bare 127.0.0.1:0 > $W/out 2>$W/err & PID=$!
else
  SIEVE_LOG=warn $BIN serve --config $W/sieve.toml > $W/out 2>$W/err & PID=$!
fi
trap "kill $PID 2>/dev/null; rm -rf $W" EXIT
for i in $(seq 50); do grep -q listening $W/out 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/listening on //p' $W/out | head -1 | tr -d ' ')
if [ -n "$GENFROM" ]; then BATCHDIR=$GENFROM; else
  node $ROOT/bench/ingest/gen-batches.mjs $BASE $W/b 10 >/dev/null; BATCHDIR=$W/b; fi
URL="$BASE/v1/events?key=wk_bench_ingest_01"
