# Sourced by the benchmark scripts: free_port prints a loopback port nothing listens on.
#
# Ports come from below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range;
# 32768-60999 on Linux by default), from [10000, its start): the kernel hands ports from that range
# to every outgoing connection, so a port picked inside it can be taken by one of the proxy's or
# the benchmark clients' own connections between the pick and the server's bind. A port below the
# range is only ever taken by a server that binds it explicitly.

free_port() {
  local low=32768 high port
  if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r low high < /proc/sys/net/ipv4/ip_local_port_range || low=32768
  fi
  if ((low <= 11000)); then
    low=65536 # no room below the range: pick anywhere above 10000 and rely on the check alone
  fi
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ((port > 65535)); then
      continue
    fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port found" >&2
  return 1
}
