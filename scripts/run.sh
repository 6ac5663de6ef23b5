#!/usr/bin/env bash
# Serve the app locally, as `make run` does once .venv is ready: upgrade the
# schema, load the demo data, print the address and the demo logins, then serve
# with gunicorn (never Flask's development server).
#   HOST (default 127.0.0.1), PORT (default 5000), WORKERS (default 2).
#   DATABASE_URL and the other settings: README.md, "Configuration".
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "run.sh: no $VENV/bin/python; run 'make run', which creates it" >&2
    exit 2
fi
export PATH="$PWD/$VENV/bin:$PATH"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
WORKERS="${WORKERS:-2}"
case "$HOST" in
    127.0.0.1 | 0.0.0.0 | localhost) public_host=localhost ;;
    *) public_host="$HOST" ;;
esac
shown_host="$HOST"
[ "$HOST" != 0.0.0.0 ] || shown_host=127.0.0.1
# The domain printed in QR codes; locally, the address being served.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$public_host:$PORT}"

echo "==> flask --app wsgi db upgrade"
flask --app wsgi db upgrade

echo "==> flask --app wsgi seed-demo"
if ! flask --app wsgi seed-demo; then
    echo "run.sh: 'flask --app wsgi seed-demo' failed (see above)" >&2
    exit 1
fi

cat <<BANNER

==============================================================================
 Traceability registry: http://${shown_host}:$PORT/
 Sign in with one of the demo logins listed above.
 QR codes point to $PUBLIC_BASE_URL (PUBLIC_BASE_URL).
 Stop with Ctrl-C.
==============================================================================

BANNER

exec gunicorn -c gunicorn.conf.py --workers "$WORKERS" --bind "$HOST:$PORT" --access-logfile - wsgi:app
