"""The demo data holds inspections in every state a centre follows up, whatever day it is loaded."""

from __future__ import annotations

from sqlalchemy import select

from traceability.inspections.queries import nonconformity_counts
from traceability.models.accounts import User
from traceability.models.inspections import Inspection


def test_the_demo_centre_has_nonconformities_to_follow_up(db, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    staff = db.session.scalars(
        select(User).where(User.role == "centre_staff", User.email.like("%@demo.vn")).order_by(User.id)
    ).first()
    counts = nonconformity_counts(staff)
    assert counts["open"] >= 2 and counts["answered"] >= 1 and counts["overdue"] >= 1
    assert all(counts[severity] >= 1 for severity in ("minor", "major", "critical"))
    states = {(i.outcome, i.status) for i in db.session.scalars(select(Inspection))}
    assert {("conforming", "closed"), ("nonconformity", "closed")} <= states
