#!/usr/bin/env bash
# The whole check, as `make test` runs it once .venv is ready:
#   1. ruff check, ruff format --check, mypy and lint-imports; bandit (high severity) and pip-audit
#   2. the suite on SQLite
#   3. the suite again on PostgreSQL: TEST_DATABASE_URL when it is set, else a
#      throwaway server (scripts/pg_throwaway.sh)
#   4. a summary with the count of tests on each database, and the SQLite pass's line
#      coverage of traceability/ (its files under 80 % after the pass; COVERAGE=all:
#      the PostgreSQL pass's too; COVERAGE=0: not measured, about 1.6 times faster).
# Every stage runs even when an earlier one failed; the exit status is non-zero
# when any failed. pytest's "no tests collected" (exit 5) is a failure too.
#
# Extra pytest arguments: PYTEST_ARGS="-k gtin -x" (shell quoting allowed) or
# arguments after the script name. Both passes run with pytest-xdist, one
# worker per CPU (TEST_WORKERS=auto, the default; a number, or 0 for one
# process); on PostgreSQL each worker gets a database of its own
# (tests/conftest.py).
# Without PostgreSQL the suite runs on SQLite only, with a warning; with CI=true
# that is a failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "test.sh: no $VENV/bin/python; run 'make test', which creates it" >&2
    exit 2
fi
export PATH="$PWD/$VENV/bin:$PATH"

case "${CI:-}" in
    true | TRUE | True | 1 | yes) in_ci=yes ;;
    *) in_ci="" ;;
esac

pytest_args=()
if [ -n "${PYTEST_ARGS:-}" ]; then
    eval "pytest_args=(${PYTEST_ARGS})"
fi
pytest_args+=("$@")

logdir="$(mktemp -d "${TMPDIR:-/tmp}/traceability-test.XXXXXX")"
trap 'rm -rf "$logdir"' EXIT

failures=()
summary=()
total_passed=0
total_failed=0
total_skipped=0

stage() {
    printf '\n==> %s\n' "$*"
}

count() {  # count WORD LINE: the number before WORD in pytest's closing line, else 0
    local found
    found="$(grep -oE "[0-9]+ $1" <<<"$2" | head -1 | cut -d' ' -f1)"
    echo "${found:-0}"
}

# run_pytest NAME COMMAND...: run the suite, keep its output, record its counts.
run_pytest() {
    local name="$1"
    shift
    local log="$logdir/$name.log" status
    "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    local database_line closing_line
    database_line="$(grep -E '^database [a-z]+: ' "$log" | tail -1)"
    closing_line="$(grep -E ' in [0-9.]+s( \([0-9:]+\))?( =+)?$' "$log" | tail -1 | sed -E 's/^=+ //; s/ =+$//')"
    summary+=("${database_line:-database $name: no count (pytest exit $status)}    [pytest: ${closing_line:-nothing}]")
    total_passed=$((total_passed + $(count passed "$closing_line")))
    total_failed=$((total_failed + $(count failed "$closing_line") + $(count error "$closing_line") + $(count errors "$closing_line")))
    total_skipped=$((total_skipped + $(count skipped "$closing_line")))
    case $status in
        0) ;;
        5) failures+=("$name: pytest collected no tests (exit 5)") ;;
        97) return 97 ;;  # scripts/pg_throwaway.sh: no PostgreSQL server
        *) failures+=("$name: pytest exit $status") ;;
    esac
    return 0
}

stage "ruff check ."
ruff check . || failures+=("ruff check .")
stage "ruff format --check ."
ruff format --check . || failures+=("ruff format --check .")
stage "mypy (traceability/, configured in pyproject.toml)"
mypy || failures+=("mypy: type errors in traceability/")
stage "lint-imports (the layers and view contracts in pyproject.toml)"
lint-imports || failures+=("lint-imports: an import breaks a contract in pyproject.toml")

stage "bandit -r traceability -lll (no high-severity finding)"
bandit -q -r traceability -lll || failures+=("bandit: a high-severity finding in traceability/")

# pip-audit asks a vulnerability service (PyPI's JSON API) about each pinned
# version. Where that service cannot be reached it skips the package and still
# says "No known vulnerabilities found": that is reported as a warning here, and
# as a failure when PIP_AUDIT_REQUIRED=true.
stage "pip-audit (known vulnerabilities of the pinned requirements)"
audit_log="$logdir/pip-audit.log"
pip-audit --no-deps --disable-pip --progress-spinner off -r requirements.txt -r requirements-dev.txt 2>&1 | tee "$audit_log"
audit_status=${PIPESTATUS[0]}
not_audited="$(grep -c "could not be audited" "$audit_log")"
if [ "$audit_status" -ne 0 ]; then
    failures+=("pip-audit: known vulnerabilities in the pinned requirements, or pip-audit failed (exit $audit_status)")
elif [ "$not_audited" -gt 0 ]; then
    summary+=("WARNING: pip-audit could not reach its vulnerability service: $not_audited pinned packages were NOT audited")
    case "${PIP_AUDIT_REQUIRED:-}" in
        true | 1 | yes) failures+=("pip-audit: $not_audited packages not audited (PIP_AUDIT_REQUIRED)") ;;
    esac
fi

# Line coverage of traceability/ on the SQLite pass (pytest-cov, the xdist workers' data
# combined), reported short after it by scripts/coverage_summary.py. It makes a pass about 1.6
# times as long (Python 3.11 traces every call): the PostgreSQL pass runs the same code, so it is
# measured there only with COVERAGE=all; COVERAGE=0 leaves it out of both.
cov_args=()
case "${COVERAGE:-1}" in
    0 | false | no) ;;
    *) cov_args=(--cov=traceability --cov-report=) ;;
esac

# report_coverage NAME: the pass's total and its files under 80 %, the total again in the summary.
report_coverage() {
    [ ${#cov_args[@]} -gt 0 ] || return 0
    local report
    report="$(python scripts/coverage_summary.py "$logdir/coverage.$1" "$1")"
    printf '\n%s\n' "$report"
    summary+=("$(head -1 <<<"$report")")
}

xdist_args=(-n "${TEST_WORKERS:-auto}")
stage "pytest on SQLite"
export COVERAGE_FILE="$logdir/coverage.sqlite"
run_pytest sqlite env -u TEST_DATABASE_URL python -m pytest "${xdist_args[@]}" "${cov_args[@]}" "${pytest_args[@]}"
report_coverage sqlite

stage "pytest on PostgreSQL"
pg_ran=yes
export COVERAGE_FILE="$logdir/coverage.postgresql"
[ "${COVERAGE:-1}" = all ] || cov_args=()
if [ -n "${TEST_DATABASE_URL:-}" ]; then
    echo "TEST_DATABASE_URL is set: using that database"
    run_pytest postgresql python -m pytest "${xdist_args[@]}" "${cov_args[@]}" "${pytest_args[@]}"
else
    run_pytest postgresql scripts/pg_throwaway.sh python -m pytest "${xdist_args[@]}" "${cov_args[@]}" "${pytest_args[@]}" || pg_ran=""
fi
[ -z "$pg_ran" ] || report_coverage postgresql
if [ -z "$pg_ran" ]; then
    summary=("${summary[@]:0:${#summary[@]}-1}")  # drop the line of the run that never happened
    if [ -n "$in_ci" ]; then
        failures+=("postgresql: no PostgreSQL server could be found or started (CI=true requires it)")
    else
        summary+=("WARNING: PostgreSQL was not available: ONLY SQLite ran (apt-get install postgresql, or set TEST_DATABASE_URL)")
    fi
fi

printf '\n==================================== summary ====================================\n'
printf '%s\n' "${summary[@]}"
if [ ${#failures[@]} -eq 0 ]; then
    echo "result: OK"
else
    printf 'FAILED: %s\n' "${failures[@]}"
fi
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
[ ${#failures[@]} -eq 0 ]
