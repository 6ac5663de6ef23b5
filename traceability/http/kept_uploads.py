"""A form's attached file, kept across a refusal: the web side of ``core.kept_uploads``.

A view wraps the form's file field and its hidden ``kept`` field, and
settles its attachments once, whatever happened to the submit::

    attachment = Attachment(form.document, form.kept_document, max_bytes=limit)
    outcome = None
    if form.validate_on_submit():
        document, name = attachment.read()
        outcome = perform(save, ..., document=document, document_name=name, show_on=form)
    if saved(outcome, attachment):
        return redirect(...)
    return render_template(..., kept_name=attachment.kept_name)

and the page shows ``attachment.kept_name`` ("attached: file.pdf (kept)").
"""

from __future__ import annotations

from typing import Any, TypeGuard, TypeVar

from flask import request
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from traceability.core import kept_uploads
from traceability.core.kept_uploads import KeptUpload
from traceability.http.web import Done, Outcome

T = TypeVar("T")


class Attachment:
    """The file of ``file_field``, or the one its ``token_field`` kept from the form's last refusal."""

    def __init__(self, file_field: Any, token_field: Any, *, max_bytes: int) -> None:
        self.file_field = file_field
        self.token_field = token_field
        self.max_bytes = max_bytes
        self.kept: KeptUpload | None = None
        self._read: tuple[bytes | None, str | None] | None = None

    @property
    def kept_name(self) -> str | None:
        """The name of the file kept for the next submit, for the page to show."""
        return self.kept.filename if self.kept else None

    def read(self) -> tuple[bytes | None, str | None]:
        """The bytes (one past the limit at most, so the service can refuse them) and the name of the file."""
        if self._read is None:
            upload = self.file_field.data
            if isinstance(upload, FileStorage) and upload.filename:
                data = upload.stream.read(self.max_bytes + 1)
                self._read = (data or None, upload.filename) if data else (None, None)
            else:
                self.kept = kept_uploads.claim(self.token_field.data, owner_id=current_user.id)
                self._read = (self.kept.data, self.kept.filename) if self.kept else (None, None)
        return self._read

    def done(self) -> None:
        """The form was saved (and committed) with the file: the kept copy is no longer needed."""
        if self.kept is not None:
            kept_uploads.discard(self.kept)
            self.kept = None
        self.token_field.data = ""

    def keep_if_refused(self) -> None:
        """After a refused submit, keep the file for the next one, unless the file itself was refused."""
        if request.method != "POST":
            return
        data, name = self.read()
        if data is None or self.file_field.errors or len(data) > self.max_bytes:
            self.token_field.data = ""
            self.kept = None
            return
        if self.kept is None:
            self.kept = kept_uploads.keep(data, name, owner_id=current_user.id)
        self.token_field.data = self.kept.token


def saved(outcome: Outcome[T] | None, *attachments: Attachment) -> TypeGuard[Done[T]]:
    """Whether the submit saved (``outcome`` committed); settles the form's ``attachments`` either way.

    Saved: the copies kept from an earlier refusal are no longer needed and go.
    Not saved (refused, a form error, or no submit, ``outcome`` None): each
    file sent is kept for the next submit, unless the file itself was refused.
    """
    done = outcome is not None and outcome.ok
    for attachment in attachments:
        if done:
            attachment.done()
        else:
            attachment.keep_if_refused()
    return done
