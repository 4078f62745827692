#!/usr/bin/env bash
# Load benchmark of examples/cluster (the built cluster.jar): a Kafka broker, 3 nodes and the
# balancer, all started by the launcher on this machine, then
#   - write throughput through the balancer: wrk POST /api/cache/<key> (KEYS distinct keys, a JSON body),
#     every write answered once it is in the Kafka log and applied on the node that took it;
#   - read throughput through the balancer: wrk GET of those keys;
#   - replication lag: LagProbe writes a fresh key on node-1 and polls node-2 until it is there,
#     SAMPLES times, one at a time; reports p50/p99 of the time from node-1's 201 to node-2's 200.
# Prints a Markdown table and the machine load (uptime). Loopback only; the launcher it starts is
# stopped by its PID on exit (it stops its broker and nodes). Installs nothing unless --install is given.
#
# Usage (from the repository root, after ./mvnw -q -pl examples/cluster -am package -DskipTests):
#   benchmarks/scripts/cluster-bench.sh [--install]
# Environment (defaults in brackets):
#   JAR [examples/cluster/target/cluster.jar]   DURATION [10s] (per wrk run)   CONNECTIONS [32]
#   WRK_THREADS [2]   KEYS [2000]   SAMPLES [1000]   NODES [3]
set -euo pipefail

JAR=${JAR:-examples/cluster/target/cluster.jar}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
KEYS=${KEYS:-2000}
SAMPLES=${SAMPLES:-1000}
NODES=${NODES:-3}
APT_PACKAGES="wrk curl"

die() { echo "cluster-bench: $*" >&2; exit 2; }

install=0
for arg in "$@"; do
  case "$arg" in
    --install) install=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument $arg (try --help)" ;;
  esac
done

missing=()
for tool in wrk curl java; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  if ((install)); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES
  else
    die "missing ${missing[*]}; install them with: apt-get update && apt-get install -y $APT_PACKAGES (or pass --install)"
  fi
fi
[[ -f "$JAR" ]] || die "$JAR not found; build it: ./mvnw -q -pl examples/cluster -am package -DskipTests"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")

work=$(mktemp -d -t cluster-bench.XXXXXX)
launcher=""
cleanup() {
  if [[ -n "$launcher" ]]; then
    kill "$launcher" 2>/dev/null || true
    wait "$launcher" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# free_port: a loopback port nothing listens on, below the ephemeral range.
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

port=$(free_port)
java -jar "$JAR" --nodes "$NODES" --port "$port" --node-base-port 0 --log-dir "$work/logs" \
  </dev/null >"$work/launcher.log" 2>&1 &
launcher=$!
balancer="http://127.0.0.1:$port"
for _ in $(seq 1 1200); do
  ready=$(curl -s "$balancer/admin/nodes" 2>/dev/null | grep -o '"ready":true' | wc -l || true)
  [[ "$ready" -eq "$NODES" ]] && break
  kill -0 "$launcher" 2>/dev/null || { cat "$work/launcher.log"; die "the launcher exited"; }
  sleep 0.1
done
[[ "$ready" -eq "$NODES" ]] || { cat "$work/launcher.log"; die "the cluster did not get ready"; }
nodes_json=$(curl -s "$balancer/admin/nodes")
node1=$(echo "$nodes_json" | grep -o '"url":"[^"]*"' | sed -n 1p | cut -d'"' -f4)
node2=$(echo "$nodes_json" | grep -o '"url":"[^"]*"' | sed -n 2p | cut -d'"' -f4)

# Each wrk thread writes its own stride of the keys (thread t: t, t+T, t+2T, ...), so the fill run
# below writes every key before the reads are measured.
cat >"$work/post.lua" <<LUA
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local i = -1
local keys = $KEYS
request = function()
  i = i + 1
  local n = (tid + i * $WRK_THREADS) % keys
  return wrk.format("POST", "/api/cache/bench-" .. n, {["Content-Type"] = "application/json"},
    '{"user":"u' .. n .. '","score":' .. i .. ',"tags":["a","b"]}')
end
LUA
cat >"$work/get.lua" <<LUA
local i = 0
local keys = $KEYS
request = function()
  i = i + 7919
  return wrk.format("GET", "/api/cache/bench-" .. (i % keys))
end
LUA
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local non2xx = (summary.errors.status or 0)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, non2xx))
end
LUA
cat "$work/post.lua" "$work/report.lua" >"$work/post-report.lua"
cat "$work/get.lua" "$work/report.lua" >"$work/get-report.lua"

# Fill every key (also warms the JITs), then measure.
for _ in 1 2 3 4 5 6; do
  wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d 5s -s "$work/post-report.lua" "$balancer" >/dev/null
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$balancer/api/cache/bench-$((KEYS - 1))") == 200 ]] && break
done
write=$(wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$work/post-report.lua" "$balancer" | grep '^RESULT')
wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d 5s -s "$work/get-report.lua" "$balancer" >/dev/null
read=$(wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$work/get-report.lua" "$balancer" | grep '^RESULT')
lag=$(java -cp "$JAR" io.cachet.examples.cluster.LagProbe "$node1" "$node2" "$SAMPLES")
load=$(uptime)

field() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }

echo
echo "| measurement (through the balancer, $NODES nodes, wrk -t $WRK_THREADS -c $CONNECTIONS -d $DURATION) | result |"
echo "| --- | ---: |"
echo "| write throughput (POST, $KEYS keys) | $(field "$write" rps) req/s |"
echo "| write latency p50 / p99 | $(field "$write" p50_ms) / $(field "$write" p99_ms) ms |"
echo "| write errors / non-2xx | $(field "$write" errors) / $(field "$write" non2xx) |"
echo "| read throughput (GET) | $(field "$read" rps) req/s |"
echo "| read latency p50 / p99 | $(field "$read" p50_ms) / $(field "$read" p99_ms) ms |"
echo "| read errors / non-2xx | $(field "$read" errors) / $(field "$read" non2xx) |"
echo "| propagation lag node-1 201 -> node-2 200, p50 / p99 / max ($SAMPLES sequential writes) | $(field "$lag" lag_p50_ms) / $(field "$lag" lag_p99_ms) / $(field "$lag" lag_max_ms) ms |"
echo "| single write on node-1 (no load), p50 / p99 | $(field "$lag" write_p50_ms) / $(field "$lag" write_p99_ms) ms |"
echo
echo "machine: $(nproc) CPUs; uptime after the run: $load"
