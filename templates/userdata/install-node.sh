# Node.js 22 or later (a maintained LTS line), then dnssd from npm, linked to the path the unit runs.
DNSSD_ROOT=${DNSSD_ROOT:-}
node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
  [ "${major:-0}" -ge 22 ]
}
if ! node_ok; then
  if command -v dnf >/dev/null 2>&1; then
    dnf install -y nodejs22 nodejs22-npm || dnf install -y nodejs npm
  elif command -v yum >/dev/null 2>&1; then
    yum install -y nodejs npm
  elif command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm
  elif command -v pkgin >/dev/null 2>&1; then
    pkgin -y install nodejs
  fi
fi
if ! node_ok && command -v snap >/dev/null 2>&1; then
  # Ubuntu's and Debian's own nodejs are older than 22; the snap carries the LTS lines.
  snap install node --classic --channel=22
  PATH="$PATH:/snap/bin"
  export PATH
  # systemd's PATH has no /snap/bin, and dnssd starts through "env node".
  mkdir -p "$DNSSD_ROOT/usr/local/bin"
  ln -sf /snap/bin/node "$DNSSD_ROOT/usr/local/bin/node"
fi
node_ok || { echo "dnssd user-data: Node.js 22 or later is required and could not be installed" >&2; exit 1; }
npm install -g --no-audit --no-fund @@PACKAGE_SH@@
installed=$(command -v dnssd) || { echo "dnssd user-data: npm did not install dnssd" >&2; exit 1; }
if [ "$installed" != @@BIN_SH@@ ]; then
  mkdir -p "$DNSSD_ROOT$(dirname @@BIN_SH@@)"
  ln -sf "$installed" "$DNSSD_ROOT"@@BIN_SH@@
fi
