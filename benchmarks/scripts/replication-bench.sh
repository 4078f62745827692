#!/usr/bin/env bash
# Benchmarks of the replicated-kafka backend (cache-replicated-kafka) against raw Kafka clients
# measured in the same run, each printed as Markdown:
#   lag       ReplicationLagBenchmark: write on node A -> visible on node B (p50/p99/p99.9) and the
#             write's own latency, against a raw KafkaProducer(acks=all, idempotent) -> KafkaConsumer;
#   replay    ReplayBenchmark: records/s of a new node catching up on 1,000,000 records, against a
#             plain KafkaConsumer reading the same topic (target: Cachet >= 0.7x);
#   snapshot  SnapshotRestartBenchmark: time to ready from a snapshot file vs a full replay.
# Each benchmark starts its own Kafka broker (cache-testkit's KafkaBrokerProcess: a JVM of its own,
# class path benchmarks.jar) on 127.0.0.1 and stops it when it ends; on Ctrl-C the benchmark JVM is
# stopped by its PID and its shutdown hook kills the broker. Everything they write on disk (broker
# data, snapshots, JFR files unless OUT is set) lives in a temporary directory removed on exit.
#
# Before each benchmark it prints `uptime` and waits, up to LOAD_TRIES x LOAD_WAIT seconds, for the
# 1-minute load average to drop below MAX_LOAD; then it runs anyway and the load is in the output.
#
# Usage (from anywhere; builds benchmarks.jar when it is missing or older than the sources):
#   benchmarks/scripts/replication-bench.sh [lag] [replay] [snapshot]     (default: all three)
# Environment (defaults in brackets):
#   JAR [benchmarks/target/benchmarks.jar]   JAVA_OPTS [-Xms2g -Xmx2g]   MAX_LOAD [1.5]
#   LOAD_TRIES [10]   LOAD_WAIT [30]   OUT [no files kept; a directory for the output and profiles]
#   LAG_ARGS [writes=20000 rate=250 rounds=2 warmup=2000]
#   REPLAY_ARGS [keys=100000 updates=10 rounds=3]   SNAPSHOT_ARGS [keys=100000 updates=10 rounds=3]
#   PROFILE [0; 1 records the replay benchmark with JFR and prints its hot spots: the Cachet apply
#            thread's and the plain consumer's]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
JAR=${JAR:-benchmarks/target/benchmarks.jar}
JAVA_OPTS=${JAVA_OPTS:--Xms2g -Xmx2g}
MAX_LOAD=${MAX_LOAD:-1.5}
LOAD_TRIES=${LOAD_TRIES:-10}
LOAD_WAIT=${LOAD_WAIT:-30}
LAG_ARGS=${LAG_ARGS:-writes=20000 rate=250 rounds=2 warmup=2000}
REPLAY_ARGS=${REPLAY_ARGS:-keys=100000 updates=10 rounds=3}
SNAPSHOT_ARGS=${SNAPSHOT_ARGS:-keys=100000 updates=10 rounds=3}
PROFILE=${PROFILE:-0}

die() { echo "replication-bench: $*" >&2; exit 2; }

benchmarks=()
for arg in "$@"; do
  case "$arg" in
    lag|replay|snapshot) benchmarks+=("$arg") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument $arg (try --help)" ;;
  esac
done
((${#benchmarks[@]})) || benchmarks=(lag replay snapshot)
command -v java >/dev/null || die "java not found (Java 17 or later)"

# --- Build when the jar is missing or older than anything it is built from.
if [[ ! -f "$JAR" ]] || [[ -n "$(find pom.xml benchmarks/pom.xml benchmarks/src cache-api/src/main cache-testkit/src/main \
    cache-replicated-kafka/src/main -newer "$JAR" -type f -print -quit 2>/dev/null)" ]]; then
  echo "Building $JAR ..." >&2
  ./mvnw -q -pl benchmarks -am package -DskipTests
fi
[[ -f "$JAR" ]] || die "$JAR not found after the build"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")

work=$(mktemp -d -t replication-bench.XXXXXX)
if [[ -n "${OUT:-}" ]]; then mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); fi
pid=
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true  # SIGTERM: its shutdown hook kills the broker it started
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load1() { cut -d' ' -f1 /proc/loadavg; }
await_quiet() {
  local try
  for try in $(seq 1 "$LOAD_TRIES"); do
    if awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }'; then return; fi
    echo "load average $(load1) >= $MAX_LOAD; waiting ${LOAD_WAIT}s ($try/$LOAD_TRIES)" >&2
    sleep "$LOAD_WAIT"
  done
  echo "load average still $(load1) >= $MAX_LOAD; running anyway (the load is in the report)" >&2
}

# run NAME CLASS JVM-OPTIONS ARGS: one benchmark JVM in the background, waited for by its PID.
run() {
  local name=$1 class=$2 jvm_opts=$3 args=$4 log
  log=${OUT:-$work}/$name.md
  await_quiet
  echo
  echo "## $name: $class $args"
  echo
  echo "uptime before: $(uptime)"
  # shellcheck disable=SC2086
  java $JAVA_OPTS $jvm_opts -Djava.io.tmpdir="$work" -cp "$JAR" "io.cachet.benchmarks.$class" $args >"$log" &
  pid=$!
  wait "$pid"
  pid=
  cat "$log"
  echo "uptime after: $(uptime)"
}

echo "# Replication benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(java -version 2>&1 | head -1))"
for b in "${benchmarks[@]}"; do
  case "$b" in
    lag) run lag ReplicationLagBenchmark "" "$LAG_ARGS" ;;
    replay)
      if [[ "$PROFILE" == 1 ]]; then
        jfr=${OUT:-$work}/replay.jfr
        # DebugNonSafepoints: without it, samples in compiled code are charged to the nearest
        # safepoint's frame, which can be a different method altogether.
        run replay ReplayBenchmark "-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
-XX:StartFlightRecording=filename=$jfr,settings=profile" "$REPLAY_ARGS"
        echo
        echo "### Profile: Cachet's apply thread (all measured replays, warm-up included)"
        java -cp "$JAR" io.cachet.benchmarks.JfrHotSpots "$jfr" thread=cachet-replica-bench top=25 site=true
        echo
        echo "### Profile: the plain consumer"
        java -cp "$JAR" io.cachet.benchmarks.JfrHotSpots "$jfr" thread=main through=ReplayBenchmark.plain top=25
      else
        run replay ReplayBenchmark "" "$REPLAY_ARGS"
      fi
      ;;
    snapshot) run snapshot SnapshotRestartBenchmark "" "$SNAPSHOT_ARGS" ;;
  esac
done
