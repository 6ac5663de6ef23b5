"""The web views' request boundary (``traceability.http.web.perform``): one commit, or a rollback shown on the form.

No web view commits or rolls back by itself: every module that defines a view
of the app (found through ``app.url_map``) is read with ``ast``. The API's
modules (``traceability/api/``: ``/api/v1`` and the EPCIS binding) commit in
their own boundary decorators and are left out.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import (
    Blueprint,
    Flask,
    flash,
    has_request_context,
    redirect,
    render_template_string,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms.validators import DataRequired

from tests.conftest import CSRF_PATTERN, RequestIsolatedClient
from traceability import create_app
from traceability.core.config import TestConfig
from traceability.core.errors import InvalidInput, TooManyAttempts
from traceability.core.extensions import db as _db
from traceability.http.web import perform
from traceability.jobs import enqueue_after_commit, job_queue
from traceability.models.registry import Centre

ROOT = Path(__file__).resolve().parents[1]

# Modules that still commit by hand, each with why. Remove an entry once its module is converted:
# the test fails while a listed module no longer commits, so the list cannot go stale.


def view_modules(app: Flask) -> dict[str, Path]:
    """The modules defining the app's web views (not the API's), by name, with their files."""
    modules: dict[str, Path] = {}
    for rule in app.url_map.iter_rules():
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        name = view.__module__
        if name.startswith("traceability.") and not name.startswith("traceability.api."):
            modules[name] = Path(inspect.getfile(view)).resolve()
    return modules


def transaction_calls(path: Path) -> list[str]:
    """Every ``….commit()`` and ``….rollback()`` call in ``path``, as "line: source"."""
    source = path.read_text(encoding="utf-8")
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
    ]
    return [
        f"{node.lineno}: {ast.get_source_segment(source, node)}"
        for node in sorted(calls, key=lambda n: n.lineno)
    ]


def test_every_module_of_web_views_is_read(app):
    modules = view_modules(app)
    for expected in (
        "traceability.accounts.routes",
        "traceability.registry.routes",
        "traceability.registry.routes.producers",
        "traceability.batches.routes",
        "traceability.batches.routes.labels",
        "traceability.public.routes.report_problem",
        "traceability.public.routes.sign_up",
        "traceability.reports.routes.centre_work",
    ):
        assert expected in modules
    assert not [name for name in modules if name.startswith("traceability.api")]
    assert all(path.is_file() for path in modules.values())


def test_no_web_view_commits_or_rolls_back_by_itself(app):
    found = {
        path.relative_to(ROOT).as_posix(): calls
        for path in view_modules(app).values()
        if (calls := transaction_calls(path))
    }
    assert not found, f"use traceability.http.web.perform instead: {found}"


# --- the boundary at work, on a view of its own ----------------------------------------------------

REFUSAL = "The centre was not opened."
FIELD_REFUSAL = "Choose another province."
PAGE = """{% for message in get_flashed_messages() %}<p class="flash">{{ message }}</p>{% endfor %}
<form method="post">{{ form.csrf_token }}{{ form.name() }}
<p class="name-errors">{{ form.name.errors | join("|") }}</p>
<p class="form-errors">{{ form.form_errors | join("|") }}</p></form>"""

boundary_views = Blueprint("boundary_test", __name__)


class CentreForm(FlaskForm):
    name = StringField(validators=[DataRequired()])


def open_centre(name: str, *, refusal: str | None) -> Centre:
    """A service that writes, flushes and names a job before it refuses (``refusal``) or returns."""
    centre = Centre(province_code="66", name=name)
    _db.session.add(centre)
    _db.session.flush()
    enqueue_after_commit("labels.run", centre.id)
    if refusal == "invalid":
        raise InvalidInput(REFUSAL, {"name": FIELD_REFUSAL})
    if refusal == "throttled":
        raise TooManyAttempts(REFUSAL, retry_after=60)
    return centre


@boundary_views.route("/boundary/centres", methods=["GET", "POST"])
def centre_new():
    form = CentreForm()
    if form.validate_on_submit():
        outcome = perform(open_centre, form.name.data, refusal=request.args.get("refusal"), show_on=form)
        if outcome.ok:
            flash(f"Centre {outcome.value.name} opened.", "success")
            return redirect(url_for("boundary_test.centre_new"))
    return render_template_string(PAGE, form=form), 422 if form.errors else 200


@boundary_views.route("/boundary/centres/flashed", methods=["POST"])
def centre_new_without_form():
    perform(open_centre, "Trung tâm", refusal="invalid")
    return redirect(url_for("boundary_test.centre_new"))


@boundary_views.route("/boundary/centres/counted", methods=["POST"])
def centre_new_counted():
    outcome = perform(
        open_centre, "Trung tâm", refusal="throttled", quiet=TooManyAttempts, commit_refused=TooManyAttempts
    )
    return render_template_string("{{ waits }}", waits=outcome.error.retry_after), 429


@pytest.fixture
def boundary(app: Flask, database_url: str) -> Iterator[Flask]:
    """The app on the suite's database and job queue, with the views above."""

    class BoundaryConfig(TestConfig):
        DATABASE_URL = database_url
        JOB_QUEUE_URL = app.config["JOB_QUEUE_URL"]
        UPLOAD_FOLDER = app.config["UPLOAD_FOLDER"]

    boundary_app = create_app(BoundaryConfig)
    boundary_app.register_blueprint(boundary_views)
    boundary_app.test_client_class = RequestIsolatedClient
    yield boundary_app
    job_queue(boundary_app).discard_all()  # the suite's queue: what a failed test left goes
    boundary_app.extensions["scan_buffer"].flush()
    with boundary_app.app_context():
        _db.engine.dispose()


@pytest.fixture
def commits() -> Iterator[list[Session]]:
    """The commits made while a request runs."""
    seen: list[Session] = []

    def count(session: Session) -> None:
        if has_request_context():
            seen.append(session)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


def post(boundary: Flask, url: str, data: dict[str, str]):
    client = boundary.test_client()
    token = CSRF_PATTERN.search(client.get("/boundary/centres").get_data(as_text=True))
    assert token
    return client, client.post(url, data={**data, "csrf_token": token.group(1)})


def centres(db) -> list[str]:
    return list(db.session.scalars(select(Centre.name)))


def test_a_refused_call_leaves_nothing_written_and_shows_the_form_with_its_errors(
    boundary, db, jobs, commits
):
    _client, response = post(boundary, "/boundary/centres?refusal=invalid", {"name": "Trung tâm Đắk Lắk"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="name-errors">{FIELD_REFUSAL}</p>' in page
    assert f'<p class="flash">{REFUSAL}</p>' in page
    assert 'value="Trung tâm Đắk Lắk"' in page  # the form again, as it was sent
    assert centres(db) == []  # the row the service flushed is rolled back
    assert jobs.waiting("labels.run") == []  # and the job it named is never queued
    assert commits == []


def test_a_call_that_works_is_committed_once_and_its_job_queued_after(boundary, db, jobs, commits):
    client, response = post(boundary, "/boundary/centres", {"name": "Trung tâm Đắk Lắk"})
    assert response.status_code == 302
    assert len(commits) == 1
    centre = db.session.scalar(select(Centre))
    assert centre.name == "Trung tâm Đắk Lắk"
    assert jobs.waiting("labels.run") == [(centre.id,)]
    page = client.get(response.location).get_data(as_text=True)
    assert '<p class="flash">Centre Trung tâm Đắk Lắk opened.</p>' in page


def test_a_refusal_without_a_form_is_flashed(boundary, db, jobs):
    client, response = post(boundary, "/boundary/centres/flashed", {})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f'<p class="flash">{REFUSAL}</p>' in page
    assert '<p class="name-errors"></p>' in page
    assert centres(db) == []
    assert jobs.waiting("labels.run") == []


def test_a_refusal_committed_anyway_keeps_what_was_written_and_the_view_answers_it(boundary, db, jobs):
    client, response = post(boundary, "/boundary/centres/counted", {})
    assert (response.status_code, response.get_data(as_text=True)) == (429, "60")
    assert centres(db) == ["Trung tâm"]  # as a throttle's count is kept
    assert jobs.waiting("labels.run") == [(db.session.scalar(select(Centre.id)),)]
    page = client.get("/boundary/centres").get_data(as_text=True)
    assert 'class="flash"' not in page  # quiet: nothing shown for the view
