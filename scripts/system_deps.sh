#!/usr/bin/env bash
# Install the system packages the test suite needs, when they are missing:
#   PostgreSQL server binaries (the suite runs a second time on PostgreSQL),
#   Debian's Chromium and a font (Playwright drives it; browsers are never downloaded),
#   redis-server (the login-throttling tests share counts through a private one),
#   npm (make test runs `npm ci` for the test tools in package-lock.json: axe-core, digital-link.js),
#   the venv module for the Python that makes .venv.
# As root it uses apt-get (one `apt-get update`, only when something is missing);
# otherwise it prints what is missing and leaves the decision to the caller.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
missing=()

have_pg_server() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1
}

have_package() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

have_pg_server || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v npm >/dev/null 2>&1 || missing+=(npm)  # Debian's npm brings its nodejs
if command -v dpkg-query >/dev/null 2>&1; then
    # DejaVu covers Vietnamese; without any font Chromium renders empty boxes.
    have_package fonts-dejavu-core || missing+=(fonts-dejavu-core)
fi
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    # Debian splits the venv module out of its python3 package.
    missing+=("python3-venv")
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system_deps: PostgreSQL server, Chromium, fonts, redis-server and npm are present."
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system_deps: WARNING: missing system packages: ${missing[*]}" >&2
    echo "system_deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 0
fi

echo "system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

status=0
have_pg_server || { echo "system_deps: PostgreSQL server binaries still missing" >&2; status=1; }
[ -x /usr/bin/chromium ] || { echo "system_deps: /usr/bin/chromium still missing" >&2; status=1; }
command -v redis-server >/dev/null 2>&1 || { echo "system_deps: redis-server still missing" >&2; status=1; }
command -v npm >/dev/null 2>&1 || { echo "system_deps: npm still missing" >&2; status=1; }
exit $status
