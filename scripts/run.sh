#!/usr/bin/env bash
# Serve the app locally, as `make run` does once .venv is ready: upgrade the
# schema, load the demo data, print the address and the demo logins, then serve
# with gunicorn (never Flask's development server) beside the job worker
# (`flask --app wsgi worker`: label sheets, periodic jobs). Ctrl-C stops both;
# when either stops by itself, the other is stopped too.
#   HOST (default 127.0.0.1), PORT (default 5000), WORKERS (default 2).
#   DATABASE_URL, JOB_QUEUE_URL and the other settings: README.md, "Configuration".
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
 Background jobs run in the job worker started beside the web server.
 Stop both with Ctrl-C.
==============================================================================

BANNER

# Both in the background of this script, so it can stop one when the other ends. Ctrl-C reaches
# both (the terminal signals the whole process group): the worker lets a running job finish, and
# the trap below waits for them; a second Ctrl-C interrupts the job, which resumes at the next start.
pids=()
stop_all() {
    trap - INT TERM
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

flask --app wsgi worker &
pids+=($!)
gunicorn -c gunicorn.conf.py --workers "$WORKERS" --bind "$HOST:$PORT" --access-logfile - wsgi:app &
pids+=($!)

status=0
wait -n "${pids[@]}" || status=$?
echo "run.sh: the web server or the job worker stopped (status $status); stopping the other" >&2
stop_all
exit "$status"
