"""Helpers shared by the web views: the request boundary, role checks, safe redirects.

The request boundary (``perform``) owns the web views' transactions, as the
API's ``operation`` owns the API's: a view checks its form, hands the service
call to ``perform`` and reads the ``Outcome``. ``perform`` commits once when the
service returns; when it refuses (``DomainError``) it rolls back, so a refused
request leaves nothing written, and shows the refusal: on the form's fields
(``show_on=form``), else as a flashed message. No view commits or rolls back
by itself (``tests/test_request_boundary.py``).

What must happen only once the work is committed is registered inside the
service call, on the session, never written after the commit by hand: a job
named with ``traceability.jobs.enqueue_after_commit`` is queued by the
boundary's commit and dropped by its rollback; product images' files removed
on commit, inspection photos' files removed on rollback and the page cache's
invalidation ride on the same session events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, Generic, Literal, TypeAlias, TypeVar
from urllib.parse import quote, urlsplit

from flask import Response, abort, flash, send_file
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import Field, FormField

from traceability.core.errors import DomainError
from traceability.core.extensions import db

T = TypeVar("T")
Refusals = type[DomainError] | tuple[type[DomainError], ...]


def _field_for(form: FlaskForm, name: str) -> Any:
    """The form field a service's field name points at: ``gtin``, ``ocop.stars``, ``inputs.0``."""
    target: Any = form
    for part in name.split("."):
        if part.isdigit() and hasattr(target, "entries"):
            index = int(part)
            target = target.entries[index] if index < len(target.entries) else None
        else:
            target = getattr(target, part, None) or getattr(form, part, None)
        if target is None:
            return None
    if isinstance(target, FormField):  # a row of a list: show it on the row's last field
        target = list(target.form)[-1]
    return target if isinstance(target, Field) else None


def show_errors(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the form: on each field it names, else above the form."""
    for name, message in error.fields.items():
        field = _field_for(form, name)
        if field is not None:
            field.errors = [*field.errors, str(message)]
        else:
            form.form_errors.append(str(message))
    if not error.fields:
        form.form_errors.append(str(error.message))
    flash(str(error.message), "error")


@dataclass(frozen=True)
class Done(Generic[T]):
    """The service did the work, and it is committed: its ``value``."""

    value: T
    error: None = None
    ok: Literal[True] = True


@dataclass(frozen=True)
class Refused:
    """The service refused: the ``error`` refusing it."""

    error: DomainError
    value: None = None
    ok: Literal[False] = False


#: What a service call at the request boundary came to. ``ok`` tells which, so
#: a type checker knows ``value`` after ``if outcome.ok`` and ``error`` after ``if not outcome.ok``.
Outcome: TypeAlias = Done[T] | Refused


def perform(
    service: Callable[..., T],
    /,
    *args: Any,
    show_on: FlaskForm | None = None,
    quiet: Refusals = (),
    commit_refused: Refusals = (),
    **kwargs: Any,
) -> Outcome[T]:
    """Call ``service(*args, **kwargs)`` at the request boundary: commit once, or roll back its refusal.

    A refusal (``DomainError``) is rolled back and shown: on ``show_on``'s
    fields (``show_errors``) when a form is given, else flashed. The view reads
    the ``Outcome`` for the rest (the redirect, the status of the page shown
    again, the refusal's own ``status``). ``quiet``: refusals of these types
    are not shown; the view answers them itself (a 429 with ``Retry-After``,
    an error page). ``commit_refused``: refusals of these
    types are committed instead of rolled back, for a service that refuses
    having written only what must hold even so (a throttle's count of a wrong
    password). Any other exception passes through; the app's error handler
    rolls it back.
    """
    try:
        value = service(*args, **kwargs)
    except DomainError as error:
        if isinstance(error, commit_refused):
            db.session.commit()
        else:
            db.session.rollback()
        if not isinstance(error, quiet):
            if show_on is not None:
                show_errors(show_on, error)
            else:
                flash(str(error.message), "error")
        return Refused(error)
    db.session.commit()
    return Done(value)


def roles_required(*roles: str) -> Callable:
    """Allow a view only to signed-in users with one of ``roles``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def writer_required(view: Callable) -> Callable:
    """Allow a view only to roles that change records (not auditors, not the ministry)."""
    return roles_required("centre_admin", "centre_staff", "producer")(view)


def local_path(target: str | None, *, from_any_url: bool = False) -> str | None:
    """The path, query and fragment of ``target`` when following it stays on this site; None when not.

    Only a path on this site: an open redirect would help phishing. Refused:
    another host, and a path starting "//" or holding a backslash, which
    browsers read as a slash ("/\\evil.example" is "//evil.example").
    ``from_any_url`` takes the path of an absolute URL (a Referer) and drops
    its host instead of refusing it.
    """
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and not from_any_url:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//") or "\\" in parts.path:
        return None
    return (
        parts.path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def attachment(body: bytes, media_type: str, filename: str) -> Response:
    """``body`` as a download named ``filename`` (ASCII): a chart's CSV, a report's XLSX or PDF."""
    response = Response(body, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def send_private_document(
    path: Path, content_type: str | None, ascii_name: str, original_name: str
) -> Response:
    """An uploaded document (a certificate, a dispute's evidence) as a download never rendered by the
    browser: its ASCII name and its original one (RFC 6266), sandboxed, not cached by shared caches."""
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=content_type or "application/octet-stream",
        as_attachment=True,
        download_name=ascii_name,
        max_age=0,
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(original_name, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
