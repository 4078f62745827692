#!/usr/bin/env bash
# Load benchmark of examples/redis-proxy (the built jar, run with its default settings) against
# baselines measured in the same run:
#   - RESP cached GET: redis-benchmark against the proxy and against its backing Redis, alternating,
#     without pipelining (-c 50) and with -P 16;
#   - RESP GET of absent keys (the proxy caches absences), the same two ways;
#   - RESP true misses: GETs cycling over MISS_KEYS keys, ten times the proxy's default capacity, so
#     most reads go to Redis; against Redis directly, the proxy and twemproxy (nutcracker), whose
#     ratio to direct Redis is the bar for a proxy that forwards every read;
#   - HTTP cached GET: wrk against the proxy and against an nginx serving a fixed 3-byte body.
# Prints a Markdown table of medians and ratios. Loopback only; every process it starts is stopped
# by its PID on exit. It installs nothing unless --install is given.
#
# Usage (from the repository root, after ./mvnw -q -pl examples/redis-proxy -am package -DskipTests):
#   benchmarks/scripts/redis-proxy-bench.sh [--install]
# Environment (defaults in brackets):
#   JAR [examples/redis-proxy/target/redis-proxy.jar]   ROUNDS [5]   KEYS [1000]   CLIENTS [50]
#   REQUESTS [300000] (per round, -c 50)   PIPELINED_REQUESTS [1500000] (per round, -P 16)
#   WRK_DURATION [6s] (per round)   WRK_THREADS [2]   MISS_KEYS [100000]
#   PROXY_ENV [empty: the proxy's defaults; e.g. "THREADS=1 CACHE_CAPACITY=20000" changes them]
#   PROXY_JAVA_OPTS [empty: the JVM's defaults]   OUT [no raw output kept]
set -euo pipefail

JAR=${JAR:-examples/redis-proxy/target/redis-proxy.jar}
ROUNDS=${ROUNDS:-5}
KEYS=${KEYS:-1000}
CLIENTS=${CLIENTS:-50}
REQUESTS=${REQUESTS:-300000}
PIPELINED_REQUESTS=${PIPELINED_REQUESTS:-1500000}
WRK_DURATION=${WRK_DURATION:-6s}
WRK_THREADS=${WRK_THREADS:-2}
MISS_KEYS=${MISS_KEYS:-100000}
PROXY_ENV=${PROXY_ENV:-}
PROXY_JAVA_OPTS=${PROXY_JAVA_OPTS:-}
APT_PACKAGES="redis-tools wrk nginx-light nutcracker"

die() { echo "redis-proxy-bench: $*" >&2; exit 2; }

install=0
for arg in "$@"; do
  case "$arg" in
    --install) install=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument $arg (try --help)" ;;
  esac
done

missing=()
for tool in redis-benchmark redis-cli wrk nginx nutcracker curl java; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  if ((install)); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES
  else
    die "missing ${missing[*]}; install them with: apt-get update && apt-get install -y $APT_PACKAGES (or pass --install)"
  fi
fi
[[ -f "$JAR" ]] || die "$JAR not found; build it: ./mvnw -q -pl examples/redis-proxy -am package -DskipTests"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")

work=$(mktemp -d -t redis-proxy-bench.XXXXXX)
# free_port: a loopback port nothing listens on, below the ephemeral range; await; redis_server_binary.
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
source "$(dirname "${BASH_SOURCE[0]}")/proxy-lib.sh"

# --- Redis: a redis-server on the PATH, otherwise the one bundled in the proxy jar.
redis_server=$(redis_server_binary "$JAR")
redis_port=$(free_port)
"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
await "Redis" redis-cli -p "$redis_port" ping
redis_version=$(redis-cli -p "$redis_port" info server | tr -d '\r' | sed -n 's/^redis_version://p')

# key:000000000000 .. key:<N-1> = "xxx": the keys redis-benchmark -r N reads (N <= MISS_KEYS).
awk -v n="$((KEYS > MISS_KEYS ? KEYS : MISS_KEYS))" \
  'BEGIN { for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i }' \
  | redis-cli -p "$redis_port" --pipe >/dev/null
http_key=key:000000000042
[[ $(redis-cli -p "$redis_port" get "$http_key") == xxx ]] || redis-cli -p "$redis_port" set "$http_key" xxx >/dev/null

# --- The proxy.
http_port=$(free_port)
resp_port=$(free_port)
# shellcheck disable=SC2086
# shellcheck disable=SC2086
env REDIS_ADDRESS=127.0.0.1:$redis_port PROXY_HOST=127.0.0.1 PROXY_PORT=$http_port RESP_PORT=$resp_port \
  $PROXY_ENV java $PROXY_JAVA_OPTS -jar "$JAR" >"$work/proxy.log" 2>&1 &
pids+=($!)
await "the proxy" curl -fsS "http://127.0.0.1:$http_port/health"

# --- twemproxy in front of the same Redis.
twem_port=$(free_port)
cat >"$work/nutcracker.yml" <<EOF
bench:
  listen: 127.0.0.1:$twem_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  servers:
   - 127.0.0.1:$redis_port:1
EOF
nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$work/nutcracker.log" &
pids+=($!)
await "twemproxy" redis-cli -p "$twem_port" get "$http_key"

# --- nginx with a fixed 3-byte body (the same size as the cached value).
nginx_port=$(free_port)
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/octet-stream; return 200 "xxx"; }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx/logs/stderr.log" &
pids+=($!)
await "nginx" curl -fsS "http://127.0.0.1:$nginx_port/proxy?key=$http_key"

[[ $(curl -fsS "http://127.0.0.1:$http_port/proxy?key=$http_key") == xxx ]] || die "the proxy does not serve $http_key"

# --- Measurements.
rb_rps() { # rb_rps PORT EXTRA-ARGS...: prints requests per second of a cached GET run
  local port=$1; shift
  redis-benchmark -p "$port" -t get -r "$KEYS" -c "$CLIENTS" --csv "$@" 2>/dev/null \
    | awk -F'"' '$2 == "GET" { print $4 }'
}
rb_cmd() { # rb_cmd PORT KEYSPACE EXTRA-ARGS... -- COMMAND...: requests per second of a custom command
  local port=$1 keyspace=$2; shift 2
  local -a args=()
  while [[ $1 != -- ]]; do args+=("$1"); shift; done
  shift
  redis-benchmark -p "$port" -r "$keyspace" -c "$CLIENTS" --csv "${args[@]}" "$@" 2>/dev/null \
    | awk -F'"' 'NR > 1 && $4 != "" { rps = $4 } END { print rps }'
}
wrk_run() { # wrk_run PORT: prints "rps p99_ms"
  local out
  out=$(wrk -t "$WRK_THREADS" -c "$CLIENTS" -d "$WRK_DURATION" --latency "http://127.0.0.1:$1/proxy?key=$http_key")
  [[ -n "${OUT:-}" ]] && echo "$out" >>"$OUT/wrk-$1.txt"
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
                  ms = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
    END { printf "%s %.3f\n", rps, ms }' <<<"$out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
fmt() { awk -v n="$1" 'BEGIN { printf "%.0f", n }'; }

[[ -n "${OUT:-}" ]] && mkdir -p "$OUT"
echo "Warming up (JIT, near cache) ..." >&2
rb_rps "$resp_port" -n 300000 >/dev/null
rb_rps "$resp_port" -n 1000000 -P 16 >/dev/null
rb_cmd "$resp_port" "$KEYS" -n 100000 -- GET absent:__rand_int__ >/dev/null
rb_cmd "$resp_port" "$MISS_KEYS" -n 100000 -- GET key:__rand_int__ >/dev/null
WRK_DURATION=5s wrk_run "$http_port" >/dev/null
WRK_DURATION=2s wrk_run "$nginx_port" >/dev/null

declare -a redis_c50 proxy_c50 redis_p16 proxy_p16 nginx_rps proxy_rps nginx_p99 proxy_http_p99
declare -a redis_abs proxy_abs redis_abs16 proxy_abs16
declare -a redis_miss proxy_miss twem_miss redis_miss16 proxy_miss16 twem_miss16
absent() { rb_cmd "$1" "$KEYS" "${@:2}" -- GET absent:__rand_int__; }
missing() { rb_cmd "$1" "$MISS_KEYS" "${@:2}" -- GET key:__rand_int__; }
load_before=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  echo "Round $round/$ROUNDS ..." >&2
  # Alternate which side goes first, so drift (thermal, neighbours) does not favour one side.
  if ((round % 2)); then order="direct proxy"; else order="proxy direct"; fi
  if ((round % 2)); then order3="direct proxy twem"; else order3="twem proxy direct"; fi
  for side in $order; do
    if [[ $side == direct ]]; then
      redis_c50+=("$(rb_rps "$redis_port" -n "$REQUESTS")")
      redis_p16+=("$(rb_rps "$redis_port" -n "$PIPELINED_REQUESTS" -P 16)")
      redis_abs+=("$(absent "$redis_port" -n "$REQUESTS")")
      redis_abs16+=("$(absent "$redis_port" -n "$PIPELINED_REQUESTS" -P 16)")
      read -r rps p99 <<<"$(wrk_run "$nginx_port")"
      nginx_rps+=("$rps"); nginx_p99+=("$p99")
    else
      proxy_c50+=("$(rb_rps "$resp_port" -n "$REQUESTS")")
      proxy_p16+=("$(rb_rps "$resp_port" -n "$PIPELINED_REQUESTS" -P 16)")
      proxy_abs+=("$(absent "$resp_port" -n "$REQUESTS")")
      proxy_abs16+=("$(absent "$resp_port" -n "$PIPELINED_REQUESTS" -P 16)")
      read -r rps p99 <<<"$(wrk_run "$http_port")"
      proxy_rps+=("$rps"); proxy_http_p99+=("$p99")
    fi
  done
  for side in $order3; do
    case $side in
      direct) redis_miss+=("$(missing "$redis_port" -n "$REQUESTS")")
              redis_miss16+=("$(missing "$redis_port" -n "$REQUESTS" -P 16)") ;;
      proxy) proxy_miss+=("$(missing "$resp_port" -n "$REQUESTS")")
             proxy_miss16+=("$(missing "$resp_port" -n "$REQUESTS" -P 16)") ;;
      twem) twem_miss+=("$(missing "$twem_port" -n "$REQUESTS")")
            twem_miss16+=("$(missing "$twem_port" -n "$REQUESTS" -P 16)") ;;
    esac
  done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

m() { printf '%s\n' "$@" | median; }
# The ratio of each round's adjacent pair of runs, then their median: drift between rounds cancels.
mr() { # mr "proxy values" "baseline values"
  local -a p=($1) b=($2)
  for i in "${!p[@]}"; do awk -v a="${p[$i]}" -v c="${b[$i]}" 'BEGIN { print (c > 0) ? a / c : 0 }'; done | median
}
rc50=$(m "${redis_c50[@]}"); pc50=$(m "${proxy_c50[@]}")
rp16=$(m "${redis_p16[@]}"); pp16=$(m "${proxy_p16[@]}")
nr=$(m "${nginx_rps[@]}"); pr=$(m "${proxy_rps[@]}")
n99=$(m "${nginx_p99[@]}"); p99=$(m "${proxy_http_p99[@]}")
x_c50=$(mr "${proxy_c50[*]}" "${redis_c50[*]}"); x_p16=$(mr "${proxy_p16[*]}" "${redis_p16[*]}")
x_http=$(mr "${proxy_rps[*]}" "${nginx_rps[*]}"); x_p99=$(mr "${proxy_http_p99[*]}" "${nginx_p99[*]}")
ra=$(m "${redis_abs[@]}"); pa=$(m "${proxy_abs[@]}"); ra16=$(m "${redis_abs16[@]}"); pa16=$(m "${proxy_abs16[@]}")
x_abs=$(mr "${proxy_abs[*]}" "${redis_abs[*]}"); x_abs16=$(mr "${proxy_abs16[*]}" "${redis_abs16[*]}")
rmiss=$(m "${redis_miss[@]}"); pmiss=$(m "${proxy_miss[@]}"); tmiss=$(m "${twem_miss[@]}")
rmiss16=$(m "${redis_miss16[@]}"); pmiss16=$(m "${proxy_miss16[@]}"); tmiss16=$(m "${twem_miss16[@]}")
x_miss=$(mr "${proxy_miss[*]}" "${redis_miss[*]}"); t_miss=$(mr "${twem_miss[*]}" "${redis_miss[*]}")
x_miss16=$(mr "${proxy_miss16[*]}" "${redis_miss16[*]}"); t_miss16=$(mr "${twem_miss16[*]}" "${redis_miss16[*]}")

cat <<EOF

Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $load_before before, $load_after after.
Versions: Redis $redis_version ($redis_server), $(redis-benchmark --version | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), $(java -version 2>&1 | head -1).
Settings: $ROUNDS alternating rounds; throughputs and latencies are medians over rounds, ratios the median of the per-round ratios; $KEYS keys of 3 bytes, $CLIENTS connections, $MISS_KEYS keys for true misses; proxy settings: ${PROXY_ENV:-defaults}; JVM options: ${PROXY_JAVA_OPTS:-defaults}; $(nutcracker --version 2>&1 | head -1 | sed 's/This is //').
Per round: redis-benchmark -t get -r $KEYS -c $CLIENTS -n $REQUESTS; the same with -P 16 -n $PIPELINED_REQUESTS; GET absent:__rand_int__ -r $KEYS the same two ways; GET key:__rand_int__ -r $MISS_KEYS -n $REQUESTS with and without -P 16; wrk -t $WRK_THREADS -c $CLIENTS -d $WRK_DURATION --latency.

| test | baseline | baseline | proxy | proxy / baseline | target |
| --- | --- | ---: | ---: | ---: | ---: |
| RESP cached GET, -c $CLIENTS | direct Redis, ops/s | $(fmt "$rc50") | $(fmt "$pc50") | **$(ratio "$x_c50" 1)** | >= 1.0 |
| RESP cached GET, -c $CLIENTS -P 16 | direct Redis, ops/s | $(fmt "$rp16") | $(fmt "$pp16") | **$(ratio "$x_p16" 1)** | >= 0.8 |
| RESP GET of absent keys, -c $CLIENTS | direct Redis, ops/s | $(fmt "$ra") | $(fmt "$pa") | **$(ratio "$x_abs" 1)** | >= 1.0 |
| RESP GET of absent keys, -c $CLIENTS -P 16 | direct Redis, ops/s | $(fmt "$ra16") | $(fmt "$pa16") | **$(ratio "$x_abs16" 1)** | >= 1.0 |
| RESP true misses, -c $CLIENTS | direct Redis, ops/s | $(fmt "$rmiss") | $(fmt "$pmiss") | **$(ratio "$x_miss" 1)** | >= twemproxy's $(ratio "$t_miss" 1) ($(fmt "$tmiss") ops/s) |
| RESP true misses, -c $CLIENTS -P 16 | direct Redis, ops/s | $(fmt "$rmiss16") | $(fmt "$pmiss16") | **$(ratio "$x_miss16" 1)** | >= twemproxy's $(ratio "$t_miss16" 1) ($(fmt "$tmiss16") ops/s) |
| HTTP cached GET, wrk -c $CLIENTS | nginx, req/s | $(fmt "$nr") | $(fmt "$pr") | **$(ratio "$x_http" 1)** | >= 0.5 |
| HTTP cached GET, wrk p99 latency | nginx, ms | $n99 | $p99 | **$(ratio "$x_p99" 1)** | <= 2.0 |

Rounds (ops/s): direct -c: ${redis_c50[*]} | proxy -c: ${proxy_c50[*]} | direct -P 16: ${redis_p16[*]} | proxy -P 16: ${proxy_p16[*]} | nginx: ${nginx_rps[*]} | proxy HTTP: ${proxy_rps[*]} | absent direct / proxy: ${redis_abs[*]} / ${proxy_abs[*]} | absent -P 16: ${redis_abs16[*]} / ${proxy_abs16[*]} | misses direct / proxy / twemproxy: ${redis_miss[*]} / ${proxy_miss[*]} / ${twem_miss[*]} | misses -P 16: ${redis_miss16[*]} / ${proxy_miss16[*]} / ${twem_miss16[*]} | p99 ms nginx: ${nginx_p99[*]} | proxy: ${proxy_http_p99[*]}
EOF
