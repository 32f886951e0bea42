#!/usr/bin/env bash
# The README's first command ends here: a short demo on the embedded default
# (a local zone file), with no cloud account. Uses ./.dnssd-demo as data dir.
set -euo pipefail
cd "$(dirname "$0")/.."
dnssd() { node bin/run.js "$@"; }
data="$PWD/.dnssd-demo"
rm -rf "$data"
export DNSSD_DATA_DIR="$data" DNSSD_ZONE=demo.example

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step dnssd join --service _v1._web._tcp --port 8080 --ip 10.0.0.1 --txt path=/ --txt tls
dnssd join --service _v1._web._tcp --port 8080 --ip 10.0.0.1 --txt path=/ --txt tls
for i in 2 3; do
  step dnssd join --service _v1._web._tcp --port 8080 --ip 10.0.0.$i --weight $((i * 10))
  dnssd join --service _v1._web._tcp --port 8080 --ip 10.0.0.$i --weight $((i * 10))
done
step dnssd list
dnssd list
step dnssd leave --service _v1._web._tcp --ip 10.0.0.2
dnssd leave --service _v1._web._tcp --ip 10.0.0.2
step dnssd list
dnssd list
printf '\nzone file: %s\n' "$data/demo.example.zone"

# join -> serve -> resolve: answer DNS for the zone and ask it like a client.
step dnssd serve --port 0 '&'
log="$data/serve.log"
node bin/run.js serve --port 0 >"$log" 2>&1 &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done
cat "$log"
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
step dnssd resolve _v1._web._tcp.demo.example --server "127.0.0.1:$port" --all
dnssd resolve _v1._web._tcp.demo.example --server "127.0.0.1:$port" --all
step dnssd resolve --service _v1._web._tcp --server "127.0.0.1:$port" --format url --scheme http
dnssd resolve --service _v1._web._tcp --server "127.0.0.1:$port" --format url --scheme http
if command -v dig >/dev/null; then
  step dig @127.0.0.1 -p "$port" +noall +answer +additional _v1._web._tcp.demo.example SRV
  dig @127.0.0.1 -p "$port" +noall +answer +additional _v1._web._tcp.demo.example SRV
fi
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
