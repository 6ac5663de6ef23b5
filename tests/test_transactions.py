"""What a service registers for the end of its transaction runs exactly when the work is kept or undone."""

from __future__ import annotations

import logging

import pytest

from traceability.core.transactions import on_commit, on_rollback


@pytest.fixture
def ran(app, db):
    ran: list[str] = []
    yield ran
    db.session.rollback()


def test_commit_actions_run_after_the_commit_and_rollback_actions_never(ran, db):
    on_commit(lambda: ran.append("sent"))
    on_rollback(lambda: ran.append("removed"))
    assert ran == []  # nothing before the transaction ends
    db.session.commit()
    assert ran == ["sent"]
    db.session.commit()
    assert ran == ["sent"]  # once


def test_a_rolled_back_transaction_runs_its_rollback_actions_only(ran, db):
    on_commit(lambda: ran.append("sent"))
    on_rollback(lambda: ran.append("removed"))
    db.session.rollback()
    assert ran == ["removed"]
    db.session.commit()
    assert ran == ["removed"]


def test_a_closed_session_counts_as_rolled_back(ran, db):
    on_rollback(lambda: ran.append("removed"))
    db.session.close()
    assert ran == ["removed"]


def test_actions_go_with_their_savepoint(ran, db):
    on_commit(lambda: ran.append("outer sent"))
    with pytest.raises(RuntimeError), db.session.begin_nested():
        on_commit(lambda: ran.append("inner sent"))
        on_rollback(lambda: ran.append("inner removed"))
        raise RuntimeError("the savepoint rolls back")
    assert ran == ["inner removed"]  # at once: the outer transaction will not need that file
    with db.session.begin_nested():
        on_rollback(lambda: ran.append("kept file removed"))
        on_commit(lambda: ran.append("released sent"))
    db.session.commit()
    assert ran == ["inner removed", "outer sent", "released sent"]


def test_a_released_savepoint_hands_its_actions_to_the_outer_rollback(ran, db):
    with db.session.begin_nested():
        on_commit(lambda: ran.append("sent"))
        on_rollback(lambda: ran.append("removed"))
    db.session.rollback()
    assert ran == ["removed"]


def test_an_action_that_fails_is_logged_and_the_others_still_run(ran, db, caplog):
    def broken() -> None:
        raise OSError("disk gone")

    on_commit(broken)
    on_commit(lambda: ran.append("sent"))
    with caplog.at_level(logging.ERROR, logger="traceability.core.transactions"):
        db.session.commit()
    assert ran == ["sent"]
    assert "disk gone" in caplog.text
