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
