"""Every service write leaves a hash-chained audit entry."""

import itertools

from sqlalchemy import select

from traceability.audit.service import GENESIS_HASH, entry_hash
from traceability.models.audit import AuditEntry


def test_writes_through_the_api_are_audited_and_chained(api, tenants, db):
    own = tenants["daklak"]
    api.post("/products", own.producer_user, json={"name": "Hồ tiêu Chư Sê"})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [(e.action, e.object_type) for e in entries]
    assert ("issue_token", "ApiToken") in actions
    assert ("create", "Product") in actions
    product_entry = next(e for e in entries if e.object_type == "Product")
    assert product_entry.user_id == own.producer_user.id
    assert product_entry.role == "producer"
    assert product_entry.producer_id == own.producer.id
    assert product_entry.after["name"] == "Hồ tiêu Chư Sê"
    assert product_entry.request_info["path"] == "/api/v1/products"
    assert entries[0].prev_hash == GENESIS_HASH
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.entry_hash
    for entry in entries:
        assert entry.entry_hash == entry_hash(entry)


def test_secrets_never_reach_the_audit_log(runner, db):
    runner.invoke(args=["create-centre", "--province", "66", "--name", "Trung tâm"])
    runner.invoke(
        args=[
            "create-user",
            "--email",
            "a@b.vn",
            "--password",
            "long-enough-1",
            "--role",
            "centre_staff",
            "--centre",
            "66",
        ]
    )
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "User")).one()
    assert "password_hash" not in entry.after


def test_a_failed_request_leaves_no_audit_entry(api, tenants, db):
    own = tenants["daklak"]
    api.token(own.producer_user)
    before = db.session.scalar(select(db.func.count(AuditEntry.id)))
    response = api.post("/products", own.producer_user, json={"name": "X", "gtin": "8935000000015"})
    assert response.status_code == 422
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == before
