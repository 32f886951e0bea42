#!/bin/sh
### BEGIN INIT INFO
# Provides:          @@NAME@@
# Required-Start:    $network $remote_fs $named
# Required-Stop:     $network $remote_fs $named
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: @@DESCRIPTION@@
# Description:       Registers this host in DNS-SD at boot (dnssd join) and
#                    removes it at shutdown (dnssd leave).
### END INIT INFO
# Written by `dnssd template sysv`.

DNSSD=@@BIN_SH@@
# Installed somewhere else (npm prefix)? Then whichever dnssd is on PATH.
[ -x "$DNSSD" ] || DNSSD=dnssd
NAME=@@NAME@@
STATE_DIR=${DNSSD_STATE_DIR:-/var/lib/dnssd}
STATE="$STATE_DIR/$NAME.joined"
ENV_FILE=@@ENV_FILE@@

if [ -r "$ENV_FILE" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  set +a
fi

# Values after join/leave are single-quoted on purpose: they reach dnssd literally.
# shellcheck disable=SC2016
start() {
  printf 'Joining %s: ' "$NAME"
  if "$DNSSD" @@JOIN_SH@@; then
    mkdir -p "$STATE_DIR" && : > "$STATE"
    echo "done"
  else
    rc=$?
    echo "failed (exit $rc)"
    return "$rc"
  fi
}

# shellcheck disable=SC2016
stop() {
  printf 'Leaving %s: ' "$NAME"
  rm -f "$STATE"
  if "$DNSSD" @@LEAVE_SH@@; then
    echo "done"
  else
    rc=$?
    echo "failed (exit $rc)"
    return "$rc"
  fi
}

status() {
  if [ -e "$STATE" ]; then
    echo "$NAME is registered"
    return 0
  fi
  echo "$NAME is not registered"
  return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart|force-reload) stop; start ;;
  status) status ;;
  *)
    echo "Usage: $0 {start|stop|restart|status}" >&2
    exit 2
    ;;
esac
