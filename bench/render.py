"""Benchmark: the first render of a lot's consumer page (a page cache miss), CPU and SQL per page.

    .venv/bin/python bench/render.py [--database sqlite|postgresql|both] [--database-url URL]
                                     [--rounds R] [--profile FILE]

Loads the demo registry (``flask seed-demo``: lots made from other lots,
events at several places, verified certificates, a recall that reaches a lot
made from the recalled one) into a fresh SQLite file, or into a scratch
schema on the PostgreSQL server of ``--database-url`` (else
``BENCH_DATABASE_URL``, ``TEST_DATABASE_URL``; ``bench/scratch.py``). Then,
in this one process, it asks for every lot's consumer page through the test
client, in Vietnamese and in English, each time with the page cache emptied
first: the consumer's miss (``resolver._through_cache``: the page's cache
scopes, the generations, the render, the store), the same code a first scan
of the day runs. For each page it counts:

- CPU milliseconds (``time.process_time``, this process: on PostgreSQL the
  server's own work is not in it, its wall time is in "SQL wall");
- SQL statements (a ``before_cursor_execute`` listener) and the time spent
  in them (CPU and wall, between ``before_`` and ``after_cursor_execute``);
- the template: ``render_template`` of the page, less the SQL it ran itself
  (lazy loads from the template).

It prints the medians per page, and the same figures for a bare route that
renders a trivial template through the same test client, in the same run:
the page's CPU as a multiple of the bare route's is comparable across
machines and runs. ``--profile FILE`` keeps cProfile's statistics of the
renders in FILE and prints the top functions (the figures then include
the profiler's cost).

Figures are printed here, never asserted in the test suite. The machine's
other jobs share its cores: compare runs on a quiet machine, or the ratio.
"""

from __future__ import annotations

import argparse
import contextvars
import cProfile
import logging
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cachelib import SimpleCache
from flask import Flask, before_render_template, render_template_string, template_rendered
from sqlalchemy import event, select

LANGUAGES = ("vi", "en")
PHONE = (
    "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)

# The bare route: Flask, Jinja and nothing else, asked through the same test client.
bare = Flask("bare")


@bare.route("/")
def hello() -> str:
    return render_template_string(
        "<!doctype html><title>{{ title }}</title><p>{{ text }}</p>", title="Xin chào", text="Truy xuất"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server; default BENCH_DATABASE_URL, TEST_DATABASE_URL"
    )
    parser.add_argument("--rounds", type=int, default=5, help="times each page is rendered (default 5)")
    parser.add_argument(
        "--profile", metavar="FILE", help="write cProfile's statistics of the renders to FILE"
    )
    return parser.parse_args(argv)


class Meter:
    """SQL statements and their time, and the template's time, of the requests while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.reset()
        self._started: tuple[float, float] | None = None
        self._template: tuple[float, float] | None = None

    def reset(self) -> None:
        self.statements = 0
        self.sql_cpu = self.sql_wall = 0.0
        self.template_cpu = 0.0
        self._sql_cpu_at_template = 0.0

    def before_execute(self, *_args: Any, **_kwargs: Any) -> None:
        if self.on:
            self.statements += 1
            self._started = (time.process_time(), time.perf_counter())

    def after_execute(self, *_args: Any, **_kwargs: Any) -> None:
        if self.on and self._started is not None:
            cpu, wall = self._started
            self.sql_cpu += time.process_time() - cpu
            self.sql_wall += time.perf_counter() - wall
            self._started = None

    def before_template(self, *_args: Any, **_kwargs: Any) -> None:
        if self.on:
            self._template = (time.process_time(), self.sql_cpu)

    def after_template(self, *_args: Any, **_kwargs: Any) -> None:
        if self.on and self._template is not None:
            cpu, sql_cpu = self._template
            self.template_cpu += (time.process_time() - cpu) - (self.sql_cpu - sql_cpu)
            self._template = None


@contextmanager
def sqlite_app() -> Iterator[Any]:
    from flask_migrate import upgrade
    from scratch import make_app

    from traceability.core.extensions import db

    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        app = make_app(f"sqlite:///{folder}/render.db", f"{folder}/uploads")
        with app.app_context():
            print("bench/render.py: SQLite, a fresh file", flush=True)
            upgrade()
            try:
                yield app
            finally:
                app.extensions["scan_buffer"].close()
                db.session.remove()
                db.engine.dispose()


def lot_paths(app: Any) -> list[str]:
    """The public path of every lot of the registry."""
    from traceability.batches.service import page_url
    from traceability.core.extensions import db
    from traceability.models.batches import Batch

    base = app.config["PUBLIC_BASE_URL"]
    batches = db.session.scalars(select(Batch).order_by(Batch.id)).all()
    paths = [urlsplit(page_url(base, batch, None)).path for batch in batches]
    db.session.commit()
    return paths


def measure(app: Any, rounds: int, profile: str | None) -> dict[str, float]:
    """Every lot's page in each language, ``rounds`` times, each a miss; the medians per page."""
    from traceability.core.extensions import db
    from traceability.demo.loader import seed_demo
    from traceability.public.page_cache import PageCache

    logging.getLogger("traceability.requests").setLevel(logging.WARNING)  # one line per request: noise here
    started = time.perf_counter()
    seed_demo()
    print(f"  demo loaded in {time.perf_counter() - started:.1f} s", flush=True)
    # The page cache in this process's memory (the folder and Redis backends add I/O, not render work).
    cache = PageCache(SimpleCache(threshold=100_000, default_timeout=0))
    app.extensions["page_cache"] = cache
    meter = Meter()
    event.listen(db.engine, "before_cursor_execute", meter.before_execute)
    event.listen(db.engine, "after_cursor_execute", meter.after_execute)
    before_render_template.connect(meter.before_template, app)
    template_rendered.connect(meter.after_template, app)
    paths = lot_paths(app)
    client = app.test_client()
    buffer = app.extensions["scan_buffer"]
    buffer.interval = 3600.0  # its thread writes nothing while pages are timed: flushed between rounds

    def get(path: str, language: str) -> Any:
        # In an empty context: the request pushes its own app context and its own database session, as
        # in a server (the bench's outer app context would otherwise lend it its session's identity map).
        return contextvars.Context().run(
            client.get, path, headers={"Accept-Language": language, "User-Agent": PHONE}
        )

    for path in paths:  # compile the templates, load the catalogs
        for language in LANGUAGES:
            cache.clear()
            assert get(path, language).status_code == 200, path
    buffer.flush()
    samples: dict[str, list[float]] = {
        "cpu": [],
        "statements": [],
        "sql_cpu": [],
        "sql_wall": [],
        "template": [],
        "wall": [],
    }
    profiler = cProfile.Profile() if profile else None
    for _round in range(rounds):
        for path in paths:
            for language in LANGUAGES:
                cache.clear()
                meter.reset()
                meter.on = True
                if profiler:
                    profiler.enable()
                cpu, wall = time.process_time(), time.perf_counter()
                response = get(path, language)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if profiler:
                    profiler.disable()
                meter.on = False
                assert response.status_code == 200 and response.headers["X-Page-Cache"] == "miss", path
                samples["cpu"].append(cpu * 1000)
                samples["wall"].append(wall * 1000)
                samples["statements"].append(meter.statements)
                samples["sql_cpu"].append(meter.sql_cpu * 1000)
                samples["sql_wall"].append(meter.sql_wall * 1000)
                samples["template"].append(meter.template_cpu * 1000)
        buffer.flush()  # the scans, outside the timed requests
    if profiler:
        profiler.dump_stats(profile)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    figures = {name: statistics.median(values) for name, values in samples.items()}
    figures["max_statements"] = max(samples["statements"])
    figures["pages"] = len(paths) * len(LANGUAGES)
    figures["bare_cpu"] = bare_cpu()
    return figures


def bare_cpu(requests: int = 2000) -> float:
    """The bare route's CPU milliseconds per request (median of ten runs), through the test client."""
    client = bare.test_client()
    client.get("/")
    runs = []
    for _run in range(10):
        cpu = time.process_time()
        for _request in range(requests // 10):
            client.get("/", headers={"User-Agent": PHONE})
        runs.append((time.process_time() - cpu) * 1000 / (requests // 10))
    return statistics.median(runs)


def report(name: str, figures: dict[str, float]) -> None:
    other = figures["cpu"] - figures["sql_cpu"] - figures["template"]
    print(
        f"  {name}: {figures['pages']:.0f} lot pages × {LANGUAGES}, each a page cache miss (medians per page)\n"
        f"    CPU {figures['cpu']:.2f} ms (wall {figures['wall']:.2f} ms) = "
        f"{figures['cpu'] / figures['bare_cpu']:.1f}× the bare route's {figures['bare_cpu']:.3f} ms\n"
        f"    SQL statements {figures['statements']:.0f} (most {figures['max_statements']:.0f}), "
        f"SQL CPU {figures['sql_cpu']:.2f} ms (wall {figures['sql_wall']:.2f} ms)\n"
        f"    template CPU {figures['template']:.2f} ms (its own SQL excepted), the rest (routing, ORM, "
        f"context, scopes) {other:.2f} ms",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from scratch import postgresql_url, scratch_app

    if args.database in ("sqlite", "both"):
        with sqlite_app() as app:
            report("SQLite", measure(app, args.rounds, args.profile))
    if args.database in ("postgresql", "both"):
        url = postgresql_url(args.database_url)
        if url is None:
            print("bench/render.py: no PostgreSQL (--database-url, BENCH_DATABASE_URL or TEST_DATABASE_URL)")
        else:
            with scratch_app(url, "render") as app:
                report("PostgreSQL", measure(app, args.rounds, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
