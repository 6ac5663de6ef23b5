"""What happens when the current transaction ends: actions registered, not hand-written.

A service that does something outside the database (queue a job, remove a
file) registers it here instead of writing its own session listeners:

- ``on_commit(action)`` runs ``action`` once the outermost transaction
  commits; nothing happens if it rolls back. Queued jobs, files a change
  replaced.
- ``on_rollback(action)`` runs ``action`` if the work it belongs to is undone;
  nothing happens once it commits. Files stored for a change that failed.

Inside a savepoint (``begin_nested``) an action goes with the savepoint: a
savepoint rolled back drops its ``on_commit`` actions and runs its
``on_rollback`` ones then; a savepoint released hands them to the enclosing
transaction. An action that raises is logged and does not undo the commit,
nor stop the other actions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from traceability.core.extensions import db

log = logging.getLogger(__name__)

_PENDING = "transaction_end_actions"  # Session.info key: [(when, action, savepoint or None)]
When = Literal["commit", "rollback"]


def on_commit(action: Callable[[], object]) -> None:
    """Run ``action`` once the current transaction commits (dropped if it rolls back)."""
    _register("commit", action)


def on_rollback(action: Callable[[], object]) -> None:
    """Run ``action`` if the current transaction, or the savepoint it is in, rolls back."""
    _register("rollback", action)


def _register(when: When, action: Callable[[], object]) -> None:
    session = db.session()
    if not session.in_transaction():  # so that a rollback before any statement still ends it
        session.begin()
    session.info.setdefault(_PENDING, []).append((when, action, session.get_nested_transaction()))


def _run(actions: list[tuple[When, Callable[[], object], SessionTransaction | None]], when: When) -> None:
    for kind, action, _savepoint in actions:
        if kind != when:
            continue
        try:
            action()
        except Exception:
            log.exception("an action run after the transaction ended failed: %r", action)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer transaction may still roll back
        return
    _run(session.info.pop(_PENDING, []), "commit")


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending or not previous.nested:
        return  # the outermost transaction: _ended runs its actions
    inside = [entry for entry in pending if _within(entry[2], previous)]
    session.info[_PENDING] = [entry for entry in pending if not _within(entry[2], previous)]
    _run(inside, "rollback")


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (rolled back, closed, its connection lost).
    if transaction.parent is None and not transaction.nested:
        _run(session.info.pop(_PENDING, []), "rollback")
