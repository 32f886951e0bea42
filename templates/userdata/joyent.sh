#!/bin/bash
# Triton user-script written by `dnssd template joyent`. On SmartOS it
# imports an SMF manifest; on Linux images (Ubuntu, ...) it installs a
# systemd unit. Either joins at boot and leaves at shutdown.
set -euo pipefail
DNSSD_ROOT=${DNSSD_ROOT:-}
export PATH="$PATH:/opt/local/bin:/opt/local/sbin:/usr/local/bin"

@@INSTALL_SH@@

mkdir -p "$DNSSD_ROOT/etc/dnssd"
if [ ! -e "$DNSSD_ROOT"@@ENV_FILE@@ ]; then
  cat > "$DNSSD_ROOT"@@ENV_FILE@@ <<'DNSSD_ENV_EOF'
@@ENV_DEFAULTS@@
DNSSD_ENV_EOF
  chmod 600 "$DNSSD_ROOT"@@ENV_FILE@@
fi

if [ "$(uname -s)" = SunOS ]; then
  manifest="$DNSSD_ROOT/opt/custom/smf/@@NAME@@.xml"
  mkdir -p "$(dirname "$manifest")"
  cat > "$manifest" <<'DNSSD_SMF_EOF'
@@MANIFEST@@
DNSSD_SMF_EOF
  svccfg import "$manifest"
  svcadm enable network/@@NAME@@
else
  mkdir -p "$DNSSD_ROOT/etc/systemd/system"
  cat > "$DNSSD_ROOT/etc/systemd/system/@@NAME@@.service" <<'DNSSD_UNIT_EOF'
@@UNIT@@
DNSSD_UNIT_EOF
  systemctl daemon-reload
  systemctl enable --now @@NAME@@.service
fi
