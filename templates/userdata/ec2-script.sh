#!/bin/bash
# EC2 user-data written by `dnssd template ec2-script`. Installs dnssd (the
# executable, checked against its SHA-256, or Node.js and the npm package),
# then a systemd unit that joins at boot and leaves at shutdown.
# No secrets: AWS credentials come from the instance role.
set -euo pipefail
DNSSD_ROOT=${DNSSD_ROOT:-}

@@INSTALL_SH@@

mkdir -p "$DNSSD_ROOT/etc/dnssd" "$DNSSD_ROOT/etc/systemd/system"
if [ ! -e "$DNSSD_ROOT"@@ENV_FILE@@ ]; then
  cat > "$DNSSD_ROOT"@@ENV_FILE@@ <<'DNSSD_ENV_EOF'
@@ENV_DEFAULTS@@
DNSSD_ENV_EOF
  chmod 600 "$DNSSD_ROOT"@@ENV_FILE@@
fi
cat > "$DNSSD_ROOT/etc/systemd/system/@@NAME@@.service" <<'DNSSD_UNIT_EOF'
@@UNIT@@
DNSSD_UNIT_EOF
@@RENEW_WRITE_SH@@
systemctl daemon-reload
systemctl enable --now @@NAME@@.service
@@RENEW_ENABLE_SH@@
