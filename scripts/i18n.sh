#!/usr/bin/env bash
# Translation catalogs: extract the strings, update the vi and en catalogs, compile them.
#
#   scripts/i18n.sh [extract [POT]|update|compile|all]     (default: all)
#
# The msgids are English; Vietnamese comes from translations/vi. After "update",
# translate every new msgid in translations/vi/LC_MESSAGES/messages.po (no fuzzy
# entries), then "compile"; commit the .pot, the .po and the .mo files together.
# tests/test_i18n.py fails while a string is untranslated or a catalog is stale.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -x "$ROOT/.venv/bin/pybabel" ]]; then
    PYBABEL="$ROOT/.venv/bin/pybabel"
elif command -v pybabel >/dev/null 2>&1; then
    PYBABEL="$(command -v pybabel)"
else
    echo "pybabel not found: install the requirements into .venv" >&2
    exit 1
fi

TRANSLATIONS="translations"
POT="$TRANSLATIONS/messages.pot"
LOCALES=(vi en)

extract() {
    local output="${1:-$POT}"
    local fresh
    fresh="$(mktemp)"
    trap 'rm -f "$fresh"' RETURN
    "$PYBABEL" --quiet extract \
        --mapping-file babel.cfg \
        --keywords _l --keywords lazy_gettext --keywords lazy_ngettext:1,2 \
        --project traceability --version 1.0 \
        --copyright-holder "traceability" \
        --sort-output \
        --width 100 \
        --output-file "$fresh" \
        .
    # Keep the old file when only the creation date changed, so diffs stay quiet.
    if [[ -f "$output" ]] && diff -q \
        <(grep -v '^"POT-Creation-Date:' "$output") \
        <(grep -v '^"POT-Creation-Date:' "$fresh") >/dev/null; then
        return 0
    fi
    cp "$fresh" "$output"
}

update() {
    local locale
    for locale in "${LOCALES[@]}"; do
        if [[ ! -f "$TRANSLATIONS/$locale/LC_MESSAGES/messages.po" ]]; then
            "$PYBABEL" --quiet init --input-file "$POT" --output-dir "$TRANSLATIONS" --locale "$locale" --width 100
        fi
        "$PYBABEL" --quiet update \
            --input-file "$POT" --output-dir "$TRANSLATIONS" --locale "$locale" \
            --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date --width 100
    done
}

compile() {
    "$PYBABEL" compile --directory "$TRANSLATIONS" --statistics
}

command="${1:-all}"
case "$command" in
    extract) extract "${2:-}" ;;
    update) update ;;
    compile) compile ;;
    all)
        extract
        update
        compile
        ;;
    *)
        echo "usage: $0 [extract [POT]|update|compile|all]" >&2
        exit 2
        ;;
esac
