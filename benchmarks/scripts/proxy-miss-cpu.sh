#!/usr/bin/env bash
# CPU time per request on true misses: examples/redis-proxy (its default settings) against
# twemproxy (nutcracker), both in front of the same Redis, and Redis alone. For each side and
# round, redis-benchmark sends REQUESTS GETs over a keyspace of MISS_KEYS keys (ten times the
# proxy's default capacity, so most reads go to Redis), with -c 50 and with -P 16; the script
# reads the process's CPU ticks (utime + stime, /proc/<pid>/stat) and Redis's before and after,
# and prints requests/s and microseconds of CPU per request for the process in front and for
# Redis. Throughput ratios swing with the load; CPU per request says what each request costs.
# Redis is the redis-server on the PATH, else the one bundled in the proxy jar. Loopback only;
# every process it starts is stopped by its PID on exit. Installs nothing.
#
# Usage (from the repository root, after ./mvnw -q -pl examples/redis-proxy -am package -DskipTests):
#   benchmarks/scripts/proxy-miss-cpu.sh
# Environment (defaults in brackets):
#   JAR [examples/redis-proxy/target/redis-proxy.jar]   ROUNDS [2]   REQUESTS [300000]
#   MISS_KEYS [100000]   PROXY_ENV [empty: the proxy's defaults]
set -euo pipefail

JAR=${JAR:-examples/redis-proxy/target/redis-proxy.jar}
ROUNDS=${ROUNDS:-2}
REQUESTS=${REQUESTS:-300000}
MISS_KEYS=${MISS_KEYS:-100000}
PROXY_ENV=${PROXY_ENV:-}

die() { echo "proxy-miss-cpu: $*" >&2; exit 2; }
for tool in redis-benchmark redis-cli nutcracker curl java; do
  command -v "$tool" >/dev/null 2>&1 || die "missing $tool; install: apt-get install -y redis-tools nutcracker curl"
done
[[ -f "$JAR" ]] || die "$JAR not found; build it: ./mvnw -q -pl examples/redis-proxy -am package -DskipTests"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")
CLK_TCK=$(getconf CLK_TCK)

work=$(mktemp -d -t proxy-miss-cpu.XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
source "$(dirname "${BASH_SOURCE[0]}")/proxy-lib.sh"

redis_server=$(redis_server_binary "$JAR")
redis_port=$(free_port)
"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis.log" &
redis_pid=$!; pids+=("$redis_pid")
await "Redis" redis-cli -p "$redis_port" ping
awk -v n="$MISS_KEYS" \
  'BEGIN { for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i }' \
  | redis-cli -p "$redis_port" --pipe >/dev/null

http_port=$(free_port); resp_port=$(free_port)
# shellcheck disable=SC2086
env REDIS_ADDRESS=127.0.0.1:$redis_port PROXY_HOST=127.0.0.1 PROXY_PORT=$http_port RESP_PORT=$resp_port \
  $PROXY_ENV java -jar "$JAR" >"$work/proxy.log" 2>&1 &
proxy_pid=$!; pids+=("$proxy_pid")
await "the proxy" curl -fsS "http://127.0.0.1:$http_port/health"

twem_port=$(free_port)
printf 'bench:\n  listen: 127.0.0.1:%s\n  hash: fnv1a_64\n  distribution: ketama\n  redis: true\n  servers:\n   - 127.0.0.1:%s:1\n' \
  "$twem_port" "$redis_port" >"$work/nutcracker.yml"
nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$work/nutcracker.log" &
twem_pid=$!; pids+=("$twem_pid")
await "twemproxy" redis-cli -p "$twem_port" get key:000000000001

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
misses() { # misses PORT EXTRA-ARGS...: requests per second
  redis-benchmark -p "$1" -r "$MISS_KEYS" -c 50 -n "$REQUESTS" --csv "${@:2}" GET key:__rand_int__ 2>/dev/null \
    | awk -F'"' 'NR > 1 && $4 != "" { rps = $4 } END { print rps }'
}
measure() { # measure NAME PORT PID EXTRA-ARGS...
  local name=$1 port=$2 pid=$3; shift 3
  local before redis_before rps after redis_after
  before=$(ticks "$pid"); redis_before=$(ticks "$redis_pid")
  rps=$(misses "$port" "$@")
  after=$(ticks "$pid"); redis_after=$(ticks "$redis_pid")
  awk -v n="$name${*:+ $*}" -v rps="$rps" -v c=$((after - before)) -v r=$((redis_after - redis_before)) \
    -v hz="$CLK_TCK" -v req="$REQUESTS" \
    'BEGIN { printf "| %s | %.0f | %.1f | %.1f |\n", n, rps, c * 1e6 / hz / req, r * 1e6 / hz / req }'
}

echo "Warming up (JIT) ..." >&2
for _ in 1 2 3; do
  misses "$resp_port" >/dev/null; misses "$resp_port" -P 16 >/dev/null
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| side | requests/s | CPU us per request (process) | CPU us per request (Redis) |"
echo "| --- | ---: | ---: | ---: |"
for _ in $(seq 1 "$ROUNDS"); do
  measure "Redis" "$redis_port" "$redis_pid"
  measure "twemproxy" "$twem_port" "$twem_pid"
  measure "proxy" "$resp_port" "$proxy_pid"
  measure "Redis" "$redis_port" "$redis_pid" -P 16
  measure "twemproxy" "$twem_port" "$twem_pid" -P 16
  measure "proxy" "$resp_port" "$proxy_pid" -P 16
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
