"""Helpers shared by the web views: showing service errors on forms, role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, flash
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from traceability.errors import DomainError


def show_errors(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the form: on each field it names, else as a message."""
    unplaced = []
    for name, message in error.fields.items():
        field = getattr(form, name.split(".")[-1], None) or getattr(form, name.replace(".", "_"), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, str(message)]
        else:
            unplaced.append(f"{name}: {message}")
    flash(" ".join([str(error.message), *unplaced]), "error")


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
