# Sourced by the proxy benchmark scripts (after ports.sh; they define die and $work).
#
# await DESCRIPTION COMMAND...: retries COMMAND for 30 s, then dies naming DESCRIPTION.
# redis_server_binary JAR: prints a redis-server to run: the one on the PATH, else the one
#   bundled in the proxy jar, extracted into $work.
# pids, stop_started: a script adds the PID of each process it starts to pids; stop_started
#   (installed as the exit trap here) ends exactly those and removes $work.

pids=()
stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_started EXIT INT TERM

await() {
  local what=$1; shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  die "$what did not come up; logs in $work"
}

redis_server_binary() {
  local jar=$1 entry found
  found=$(command -v redis-server || true)
  if [[ -n "$found" ]]; then
    echo "$found"
    return
  fi
  case "$(uname -m)" in
    x86_64) entry=redis-server-6.2.6-v5-linux-amd64 ;;
    aarch64) entry=redis-server-6.2.7-linux-arm64 ;;
    *) die "no bundled redis-server for $(uname -m); install one" ;;
  esac
  (cd "$work" && { unzip -q -o "$jar" "$entry" 2>/dev/null || jar xf "$jar" "$entry"; }) >&2
  chmod +x "$work/$entry"
  echo "$work/$entry"
}
