"""Print the short line-coverage report of one test pass: the total, then the files under a threshold.

    .venv/bin/python scripts/coverage_summary.py DATA_FILE NAME [--under 80]

``scripts/test.sh`` runs it after the SQLite pass (the PostgreSQL one too with
COVERAGE=all) on the data pytest-cov wrote there (its xdist workers' data
already combined). What is
measured is set in pyproject.toml (``[tool.coverage.run]``: ``traceability/``,
files never imported included, at 0 %). For every line of every file:
``.venv/bin/coverage report --data-file=DATA_FILE`` (or ``html``).
"""

from __future__ import annotations

import argparse
import os
import sys

import coverage
from coverage.exceptions import NoDataError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_file")
    parser.add_argument("name", help="the pass, for the heading: sqlite or postgresql")
    parser.add_argument("--under", type=float, default=80.0, help="list the files below this percentage")
    args = parser.parse_args()

    measured = coverage.Coverage(data_file=args.data_file)
    measured.load()
    files: list[tuple[float, int, str]] = []
    statements_in_all = missed_in_all = 0
    try:
        paths = sorted(measured.get_data().measured_files())
        for path in paths:
            _name, statements, _excluded, missing, _text = measured.analysis2(path)
            statements_in_all += len(statements)
            missed_in_all += len(missing)
            if statements:
                percent = 100.0 * (len(statements) - len(missing)) / len(statements)
                files.append((percent, len(missing), os.path.relpath(path)))
    except NoDataError:
        paths = []
    if not paths or not statements_in_all:
        print(f"coverage {args.name}: no data in {args.data_file}")
        return 1
    total = 100.0 * (statements_in_all - missed_in_all) / statements_in_all
    below = sorted(entry for entry in files if entry[0] < args.under)
    print(
        f"coverage {args.name}: {total:.1f} % of the lines of traceability/ "
        f"({statements_in_all - missed_in_all} of {statements_in_all}); "
        f"{len(below)} of {len(files)} files under {args.under:g} %"
    )
    for percent, not_run, path in below:
        print(f"  {percent:5.1f} %  {path}  ({not_run} lines not run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
