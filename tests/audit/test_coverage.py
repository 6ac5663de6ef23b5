"""Every write service leaves an audit entry: who, role, tenant, the object, before and after."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from PIL import Image
from sqlalchemy import select

from traceability.accounts.service import (
    add_user,
    authenticate,
    change_password,
    issue_token,
    reset_password,
    set_user_active,
)
from traceability.audit.chain import verify_chain
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import close_recall, recall_batch
from traceability.batches.service import correct_event, create_batch, record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.models.audit import AuditEntry
from traceability.models.batches import BatchInput
from traceability.registry.certifications import (
    create_certification,
    reject_certification,
    update_certification,
    verify_certification,
)
from traceability.registry.locations import create_location, update_location
from traceability.registry.producers import (
    approve_producer,
    create_producer,
    reinstate_producer,
    reject_producer,
    set_producer_logo,
    sign_up_producer,
    suspend_producer,
    update_producer,
)
from traceability.registry.product_images import (
    add_product_image,
    remove_product_image,
    set_main_product_image,
)
from traceability.registry.products import create_product, update_product

PASSWORD = "correct-horse-42"


def _image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 140), (20, 120, 60)).save(buffer, format=kind)
    return buffer.getvalue()


class Audited:
    """Finds the entry a write left and checks who, the tenant and the data."""

    def __init__(self, db) -> None:
        self.db = db
        self.checked: list[tuple[str, str]] = []

    def entry(self, action: str, obj, *, actor, producer=None, centre=None, before: bool = False):
        self.db.session.commit()
        entry = self.db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == action,
                AuditEntry.object_type == type(obj).__name__,
                AuditEntry.object_id == str(obj.id),
            )
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None, f"no {action} entry for {type(obj).__name__} {obj.id}"
        assert entry.user_id == (actor.id if actor else None)
        assert entry.role == (actor.role if actor else None)
        if producer is not None:
            assert entry.producer_id == producer.id
            assert entry.centre_id == producer.centre_id
        if centre is not None:
            assert entry.centre_id == centre.id
        assert entry.centre_id is not None, "every entry names the centre whose staff may read it"
        if before:
            assert entry.before is not None
            assert entry.before != entry.after
        assert "password_hash" not in json.dumps([entry.before, entry.after])
        self.checked.append((action, type(obj).__name__))
        return entry


def test_registry_writes_are_audited(db, tenants):
    own = tenants["daklak"]
    staff, producer_user = own.staff, own.producer_user
    audited = Audited(db)

    producer = create_producer(
        {
            "name": "HTX Mắc ca Krông Năng",
            "kind": "cooperative",
            "tax_code": "6000123456",
            "province_code": "66",
        },
        actor=staff,
    )
    audited.entry("create", producer, actor=staff, producer=producer)
    update_producer(producer, {"phone": "0262 3812 345"}, actor=staff)
    entry = audited.entry("update", producer, actor=staff, producer=producer, before=True)
    assert entry.before["phone"] != entry.after["phone"] == "0262 3812 345"
    set_producer_logo(producer, _image("PNG"), actor=staff)
    audited.entry("update", producer, actor=staff, producer=producer, before=True)
    suspend_producer(producer, "Hồ sơ chưa đầy đủ", actor=staff)
    entry = audited.entry("suspend", producer, actor=staff, producer=producer, before=True)
    assert (entry.before["status"], entry.after["status"]) == ("approved", "suspended")
    reinstate_producer(producer, actor=staff)
    audited.entry("reinstate", producer, actor=staff, producer=producer, before=True)

    signed_up, admin = sign_up_producer(
        {
            "name": "Hộ kinh doanh Sầu riêng",
            "kind": "household",
            "province_code": "66",
            "ward": "Xã Ea Tu",
            "phone": "0262 3812 346",
            "user_email": "saurieng@example.vn",
            "user_password": "sau-rieng-chin-2026",
        }
    )
    audited.entry("create", signed_up, actor=None, producer=signed_up)
    audited.entry("create", admin, actor=None, producer=signed_up)
    reject_producer(signed_up, "Thiếu giấy phép kinh doanh", actor=staff)
    audited.entry("reject", signed_up, actor=staff, producer=signed_up, before=True)
    approve_producer(signed_up, actor=staff)
    audited.entry("approve", signed_up, actor=staff, producer=signed_up, before=True)

    location = create_location(
        {"producer_id": own.producer.id, "name": "Kho Ea Kar", "kind": "warehouse"}, actor=producer_user
    )
    audited.entry("create", location, actor=producer_user, producer=own.producer)
    update_location(location, {"name": "Kho lạnh Ea Kar"}, actor=producer_user)
    audited.entry("update", location, actor=producer_user, producer=own.producer, before=True)

    product = create_product({"name": "Cà phê Robusta Ea Kar"}, actor=producer_user)
    audited.entry("create", product, actor=producer_user, producer=own.producer)
    update_product(product, {"description": "Rang mộc"}, actor=producer_user)
    audited.entry("update", product, actor=producer_user, producer=own.producer, before=True)
    image = add_product_image(product, _image("PNG"), actor=producer_user)
    audited.entry("create", image, actor=producer_user, producer=own.producer)
    second = add_product_image(product, _image("JPEG"), actor=producer_user)
    set_main_product_image(second, actor=producer_user)
    audited.entry("update", second, actor=producer_user, producer=own.producer, before=True)
    remove_product_image(image, actor=producer_user)
    audited.entry("delete", image, actor=producer_user, producer=own.producer)

    today = date.today()
    certification = create_certification(
        {
            "scope": "product",
            "subject_id": product.id,
            "type": "vietgap",
            "number": "VietGAP-66-0001",
            "issuer": "TQC",
            "valid_from": today - timedelta(days=10),
            "valid_to": today + timedelta(days=700),
        },
        actor=producer_user,
        document=_image("PDF"),
        document_name="vietgap.pdf",
    )
    audited.entry("create", certification, actor=producer_user, producer=own.producer)
    verify_certification(certification, actor=staff)
    audited.entry("verify", certification, actor=staff, producer=own.producer, before=True)
    update_certification(certification, {"issuer": "TQC Việt Nam"}, actor=producer_user)
    audited.entry("update", certification, actor=producer_user, producer=own.producer, before=True)
    reject_certification(certification, "Số hiệu không khớp", actor=staff)
    audited.entry("reject", certification, actor=staff, producer=own.producer, before=True)

    assert verify_chain().intact


def test_batch_writes_are_audited(db, tenants):
    own = tenants["daklak"]
    user = own.producer_user
    audited = Audited(db)
    raw = create_batch(
        {
            "product_id": own.product.id,
            "lot_code": "NHAN-2026",
            "production_date": date(2026, 10, 1),
            "quantity": Decimal("100"),
            "unit": "KGM",
        },
        actor=user,
    )
    audited.entry("create", raw, actor=user, producer=own.producer)
    roasted = create_batch(
        {
            "product_id": own.product.id,
            "lot_code": "RANG-2026",
            "production_date": date(2026, 10, 5),
            "quantity": Decimal("80"),
            "unit": "KGM",
            "inputs": [{"batch_id": raw.id, "quantity": Decimal("60")}],
        },
        actor=user,
    )
    audited.entry("create", roasted, actor=user, producer=own.producer)
    (first_link,) = db.session.scalars(select(BatchInput).where(BatchInput.output_batch_id == roasted.id))
    audited.entry("create", first_link, actor=user, producer=own.producer)
    blended = create_batch(
        {
            "product_id": own.product.id,
            "lot_code": "TRON-2026",
            "production_date": date(2026, 10, 6),
            "quantity": Decimal("40"),
            "unit": "KGM",
        },
        actor=user,
    )
    (link,) = add_inputs(
        blended, [{"batch_id": raw.id, "quantity": Decimal("40")}], kind="transformation", actor=user
    )
    audited.entry("create", link, actor=user, producer=own.producer)
    entry = audited.entry("consume", raw, actor=user, producer=own.producer, before=True)
    assert (entry.before["status"], entry.after["status"]) == ("active", "consumed")

    moment = datetime(2026, 10, 7, 8, 30, tzinfo=VIETNAM_OFFSET)
    event = record_event(roasted, {"type": "packing", "time": moment, "note": "Đóng gói 1 kg"}, actor=user)
    audited.entry("create", event, actor=user, producer=own.producer)
    correction = correct_event(
        event, {"type": "packing", "time": moment, "note": "Đóng gói 500 g"}, "Sai khối lượng", actor=user
    )
    audited.entry("create", correction, actor=user, producer=own.producer)
    retraction = retract_event(correction, "Ghi nhầm lô", actor=user)
    audited.entry("create", retraction, actor=user, producer=own.producer)

    recall = recall_batch(blended, "Nhiễm nấm mốc", actor=user)
    entry = audited.entry("recall", recall, actor=user, producer=own.producer)
    assert entry.after["affected_batch_ids"] == [blended.id]
    entry = audited.entry("recall", blended, actor=user, producer=own.producer, before=True)
    assert entry.after["status"] == "recalled"
    close_recall(recall, "Kiểm nghiệm lại đạt", "returned_to_sale", actor=own.staff)
    audited.entry("close", recall, actor=own.staff, producer=own.producer, before=True)
    entry = audited.entry("return_to_sale", blended, actor=own.staff, producer=own.producer, before=True)
    assert entry.after["status"] == "active"
    assert verify_chain().intact


def test_account_writes_logins_and_tokens_are_audited(db, tenants):
    own = tenants["daklak"]
    admin = own.admin
    audited = Audited(db)
    staff = add_user(
        {"email": "nhanvien@example.vn", "password": "mat-khau-rat-dai-1", "role": "centre_staff"},
        actor=admin,
    )
    entry = audited.entry("create", staff, actor=admin, centre=own.centre)
    assert "mat-khau-rat-dai-1" not in json.dumps(entry.after)
    set_user_active(staff, False, actor=admin)
    audited.entry("disable", staff, actor=admin, centre=own.centre, before=True)
    set_user_active(staff, True, actor=admin)
    audited.entry("enable", staff, actor=admin, centre=own.centre, before=True)
    temporary = reset_password(staff, actor=admin)
    entry = audited.entry("reset_password", staff, actor=admin, centre=own.centre)
    assert temporary not in json.dumps([entry.before, entry.after])
    change_password(staff, current_password=temporary, new_password="mot-mat-khau-moi-2")
    audited.entry("change_password", staff, actor=staff, centre=own.centre)

    assert authenticate(own.producer_user.email, PASSWORD) is own.producer_user
    entry = audited.entry("login", own.producer_user, actor=own.producer_user, producer=own.producer)
    _token, api_token = issue_token(own.producer_user)
    audited.entry("issue_token", api_token, actor=own.producer_user, producer=own.producer)
    assert verify_chain().intact
