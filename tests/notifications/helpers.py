"""What the notification tests share: the worker's turn and the inbox's checks."""

from __future__ import annotations

BASE = "https://trace.example.vn"


def settle(db, jobs) -> None:
    """The request boundary commits; the worker then runs the jobs the commit queued."""
    db.session.commit()
    jobs.run_pending()


def only_one(inbox, address):
    messages = inbox.to(address)
    assert len(messages) == 1, [m.subject for m in messages]
    return messages[0]


def nobody_else(inbox, *addresses):
    assert sorted(address for item in inbox.received for address in item.recipients) == sorted(addresses)
