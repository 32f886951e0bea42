# The dnssd executable (no runtime to install): download it, check its pinned
# SHA-256, install it at the path the unit runs. Any failure stops here with
# one line, before anything is registered.
DNSSD_ROOT=${DNSSD_ROOT:-}
dnssd_fail() {
  echo "dnssd user-data: $*; nothing was installed or registered" >&2
  exit 1
}
dnssd_url=@@BINARY_URL_SH@@
dnssd_sha256=@@BINARY_DIGEST_SH@@
[ "$(uname -s)" = Linux ] || dnssd_fail "the dnssd executable runs on Linux, this is $(uname -s) (use the npm install: dnssd template --package)"
mkdir -p "$DNSSD_ROOT$(dirname @@BIN_SH@@)"
dnssd_tmp=$(mktemp "$DNSSD_ROOT$(dirname @@BIN_SH@@)/.dnssd.XXXXXX") || dnssd_fail "cannot create a file in $(dirname @@BIN_SH@@)"
trap 'rm -f "$dnssd_tmp"' EXIT
if command -v curl >/dev/null 2>&1; then
  curl -fsL --retry 5 --retry-connrefused --connect-timeout 10 -o "$dnssd_tmp" "$dnssd_url" || dnssd_fail "download of $dnssd_url failed (curl exit $?)"
elif command -v wget >/dev/null 2>&1; then
  wget -q -T 10 -t 5 -O "$dnssd_tmp" "$dnssd_url" || dnssd_fail "download of $dnssd_url failed (wget exit $?)"
else
  dnssd_fail "neither curl nor wget is installed to download $dnssd_url"
fi
dnssd_got=$(sha256sum "$dnssd_tmp" 2>/dev/null | cut -d ' ' -f 1) || dnssd_got=
[ "$dnssd_got" = "$dnssd_sha256" ] || dnssd_fail "$dnssd_url has SHA-256 ${dnssd_got:-unknown}, expected $dnssd_sha256"
chmod 755 "$dnssd_tmp"
mv -f "$dnssd_tmp" "$DNSSD_ROOT"@@BIN_SH@@
trap - EXIT
