#!/usr/bin/env bash
# The exact LRU by thread count: LocalCacheBenchmark's read_only and readwrite (Zipf keys) for
# CACHET_LRU against the naive exact LRU (SYNC_LINKED_HASH_MAP) and raw Caffeine, all in the same
# JMH run per thread count, then the ratios (Ratios) and the chart (lru-chart.py).
#
# Before each thread count it prints `uptime` and waits, up to LOAD_TRIES x LOAD_WAIT seconds, for
# the 1-minute load average to drop below MAX_LOAD; then it runs anyway and the load is printed
# before and after, so a run taken under load can be told apart.
#
# Usage (from anywhere; builds benchmarks.jar when it is missing or older than the sources):
#   benchmarks/scripts/local-lru-bench.sh
# Environment (defaults in brackets):
#   JAR [benchmarks/target/benchmarks.jar]   OUT [lru-results: CSVs, logs and chart land here]
#   THREADS [1 2 4]   IMPLS [CACHET_LRU,SYNC_LINKED_HASH_MAP,CAFFEINE]
#   JMH_ARGS [-f 3 -wi 3 -w 1s -i 5 -r 1s]   MAX_LOAD [1.5]   LOAD_TRIES [20]   LOAD_WAIT [15]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
JAR=${JAR:-benchmarks/target/benchmarks.jar}
OUT=${OUT:-lru-results}
THREADS=${THREADS:-1 2 4}
IMPLS=${IMPLS:-CACHET_LRU,SYNC_LINKED_HASH_MAP,CAFFEINE}
JMH_ARGS=${JMH_ARGS:--f 3 -wi 3 -w 1s -i 5 -r 1s}
MAX_LOAD=${MAX_LOAD:-1.5}
LOAD_TRIES=${LOAD_TRIES:-20}
LOAD_WAIT=${LOAD_WAIT:-15}

if [[ ! -f "$JAR" ]] || [[ -n "$(find pom.xml benchmarks/pom.xml benchmarks/src cache-api/src/main cache-local/src/main \
    -newer "$JAR" -type f -print -quit 2>/dev/null)" ]]; then
  echo "Building $JAR ..." >&2
  ./mvnw -q -pl benchmarks -am package -DskipTests
fi
mkdir -p "$OUT"

wait_for_quiet() {
  for ((i = 0; i < LOAD_TRIES; i++)); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }'; then
      return
    fi
    sleep "$LOAD_WAIT"
  done
  echo "load still ${load} after waiting; running anyway" >&2
}

csvs=()
for t in $THREADS; do
  wait_for_quiet
  echo "threads=$t before: $(uptime)" | tee -a "$OUT/uptime.txt"
  # shellcheck disable=SC2086
  java -jar "$JAR" 'LocalCacheBenchmark.(read_only|readwrite)' -p impl="$IMPLS" $JMH_ARGS -t "$t" \
      -rf csv -rff "$OUT/lru-t$t.csv" > "$OUT/lru-t$t.log" 2>&1
  echo "threads=$t after:  $(uptime)" | tee -a "$OUT/uptime.txt"
  csvs+=("$OUT/lru-t$t.csv")
done

java -cp "$JAR" io.cachet.benchmarks.Ratios "${csvs[@]}" | tee "$OUT/ratios.md"
python3 benchmarks/scripts/lru-chart.py "$OUT/lru-chart.svg" "${csvs[@]}"
echo "chart: $OUT/lru-chart.svg"
