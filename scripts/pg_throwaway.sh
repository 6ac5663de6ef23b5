#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server:
#
#   scripts/pg_throwaway.sh COMMAND [ARGS...]
#
# initdb into a temporary directory, start the server on a free port of
# 127.0.0.1 (its unix socket inside that directory, trust authentication),
# create a database, run COMMAND with TEST_DATABASE_URL pointing at it, then
# stop the server and delete the directory, whatever happens.
# PostgreSQL refuses to run as root: as root the server runs as the `postgres`
# system user (created by Debian's postgresql package) through runuser.
#
# PG_BINDIR=/usr/lib/postgresql/15/bin picks a server; PG_THROWAWAY_DB names the database.
#
# Exit status: COMMAND's; 97 when no PostgreSQL server could be found or started.
set -euo pipefail

NO_POSTGRES=97
DB_NAME="${PG_THROWAWAY_DB:-traceability_test}"

die_no_pg() {
    echo "pg_throwaway: $*" >&2
    exit $NO_POSTGRES
}

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

# PG_BINDIR when given, else the newest server installed (Debian keeps each
# major version in /usr/lib/postgresql/N/bin), else initdb on the PATH.
bindir="${PG_BINDIR:-}"
if [ -z "${PG_BINDIR:-}" ]; then
    for dir in $(compgen -G "/usr/lib/postgresql/*/bin" | sort -V); do
        [ -x "$dir/initdb" ] && bindir="$dir"
    done
    if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
        bindir="$(dirname "$(command -v initdb)")"
    fi
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] \
    || die_no_pg "no PostgreSQL server binaries (initdb) found; apt-get install postgresql"

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die_no_pg "running as root but there is no 'postgres' user to run the server"
    db_user=postgres
    as_db_user=(runuser -u postgres --)
    workdir="$(mktemp -d /tmp/pg-throwaway.XXXXXX)"
    chown postgres: "$workdir"
else
    db_user="$(id -un)"
    as_db_user=()
    workdir="$(mktemp -d "${TMPDIR:-/tmp}/pg-throwaway.XXXXXX")"
fi
chmod 700 "$workdir"

cleanup() {
    if [ -f "$workdir/data/postmaster.pid" ]; then
        "${as_db_user[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

locale_opt=(--locale=C.UTF-8)
if ! locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    locale_opt=(--locale=C)
fi
if ! "${as_db_user[@]}" "$bindir/initdb" -D "$workdir/data" -U "$db_user" -A trust -E UTF8 "${locale_opt[@]}" \
    --no-sync >"$workdir/initdb.log" 2>&1; then
    cat "$workdir/initdb.log" >&2
    die_no_pg "initdb failed"
fi
"${as_db_user[@]}" mkdir "$workdir/socket"

# fsync off and friends: a throwaway server trades durability for speed.
started=""
for _ in 1 2 3; do
    port="$(free_port)"
    if "${as_db_user[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $workdir/socket -F -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        started=yes
        break
    fi
done
if [ -z "$started" ]; then
    cat "$workdir/server.log" >&2 || true
    die_no_pg "the server did not start"
fi
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$db_user" "$DB_NAME" \
    || die_no_pg "createdb failed"

export TEST_DATABASE_URL="postgresql://$db_user@127.0.0.1:$port/$DB_NAME"
echo "pg_throwaway: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $TEST_DATABASE_URL"
status=0
"$@" || status=$?
exit $status
