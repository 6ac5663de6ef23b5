"""One input contract per operation: the web form and the API refuse a value over a limit with the same
words, and every length in the forms and the schemas is its model column's.

Each case posts a value just over one limit the way a user does, through the
web form of an operation and through its API call, and finds the API's message
for the field on the web page (or among the flashed messages of the page the
form returns to). The walks at the end read the forms and schemas themselves.
"""

from __future__ import annotations

import html
import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from wtforms import validators
from wtforms.fields import FormField
from wtforms.fields.core import UnboundField

import traceability
from tests.inspections.helpers import TODAY, checklist
from traceability.accounts.contracts import TokenRequestSchema
from traceability.accounts.forms import LoginForm, UserForm
from traceability.batches.contracts import BatchInSchema, EventCorrectionSchema, EventInSchema
from traceability.batches.forms import BatchForm, CorrectionForm, EventForm
from traceability.core.contracts import column_length, column_required, model_columns
from traceability.http.forms import SchemaForm
from traceability.inspections.checklists import checklist_for
from traceability.inspections.contracts import InspectionInSchema
from traceability.inspections.service import MAX_NOTE, MAX_TEXT
from traceability.models.accounts import ApiToken, User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, Item, Recall, TraceEvent
from traceability.models.inspections import Inspection
from traceability.models.registry import Certification, GtinDispute, Location, Producer, Product
from traceability.models.reports import CentreContract, ScienceTask, TechnologyProcess
from traceability.registry.certification_forms import CertificationDataForm
from traceability.registry.contracts import (
    CertificationInSchema,
    GtinDisputeInSchema,
    LocationFieldsSchema,
    LocationInSchema,
    OcopSchema,
    ProducerInSchema,
    ProducerUpdateSchema,
    ProductFieldsSchema,
    ProductInSchema,
)
from traceability.registry.forms import LocationForm, NewLocationForm, NewProductForm, OcopForm, ProductForm
from traceability.registry.gtin_dispute_forms import DisputeForm
from traceability.registry.producer_forms import ProducerProfileForm, SignUpForm
from traceability.reports.audit_log_forms import AuditFilterForm
from traceability.reports.forms import ContractForm, ProcessForm, TaskForm


@pytest.fixture(autouse=True)
def english(client):
    """Pages and API messages in English, so the assertions read what a user reads."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _api_refusal(response, path: tuple[str, ...]) -> str:
    """The API's one message for the field at ``path`` of a 422 answer."""
    assert response.status_code == 422, response.get_json()
    found: Any = response.get_json()["error"]["fields"]
    for key in path:
        found = found[key]
    assert isinstance(found, list) and len(found) == 1, found
    return found[0]


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@dataclass
class Operation:
    """An operation with a web form and an API call, each posting ``data`` plus one value."""

    name: str
    web: Callable[[Any, Any, dict[str, Any]], Any]  # (web, scene, form data) -> response
    api: Callable[[Any, Any, dict[str, Any]], Any]  # (api, scene, body) -> response
    model: type  # nothing of it is stored by a refused request


@pytest.fixture
def scene(make, tenants, db):
    """The records the operations act on: Đắk Lắk's producer and staff, a pending producer, an event,
    an open recall, a certification and an open nonconformity."""

    class Scene:
        pass

    own = tenants["daklak"]
    scene = Scene()
    scene.own = own
    scene.pending = make.producer(own.centre, status="pending")
    scene.certification = make.certification(own.producer, status="pending")
    scene.event = TraceEvent(
        batch_id=own.batch.id,
        type="packing",
        biz_step="packing",
        event_time=own.batch.created_at - timedelta(days=1),
        note="",
    )
    db.session.add(scene.event)
    scene.recall = Recall(batch_id=own.batch.id, reason="Nghi nhiễm nấm mốc", opened_by_id=own.staff.id)
    db.session.add(scene.recall)
    scene.inspection, scene.answered = (
        Inspection(
            centre_id=own.centre.id,
            producer_id=own.producer.id,
            subject_kind="producer",
            inspected_on=TODAY - timedelta(days=2),
            inspector="Nguyễn Văn Kiểm",
            findings="Nhãn thiếu hạn sử dụng.",
            outcome="nonconformity",
            severity="minor",
            follow_up_on=TODAY + timedelta(days=30),
            status=status,
        )
        for status in ("open", "answered")
    )
    db.session.add_all([scene.inspection, scene.answered])
    db.session.commit()
    return scene


def _signed_in(web, user):
    web.login(user.email)
    return web


PRODUCT_PAGE = "/manage/products/new"
LOCATION_PAGE = "/manage/locations/new"
EVENT_TIME = "2026-10-03T08:00"

OPERATIONS = {
    "sign-up": Operation(
        "producer sign-up / POST /producers",
        lambda web, s, data: web.post_form(
            "/producers/sign-up",
            {
                "name": "HTX Cà phê Ea Tu",
                "kind": "cooperative",
                "tax_code": "6000777001",
                "province_code": "66",
                "ward": "Xã Ea Tu",
                "phone": "0262 3812 345",
                "user_name": "Nguyễn Thị Hoa",
                "user_email": "hoa@htxeatu.vn",
                "user_password": "ca-phe-ea-tu-2026",
                "user_password_again": "ca-phe-ea-tu-2026",
                **data,
            },
        ),
        lambda api, s, body: api.post(
            "/producers",
            s.own.staff,
            json={"name": "HTX Ea Tu", "kind": "cooperative", "tax_code": "6000777001", "province_code": "66"}
            | body,
        ),
        Producer,
    ),
    "profile": Operation(
        "producer profile / PATCH /producers/{id}",
        lambda web, s, data: _signed_in(web, s.own.staff).post_form(
            f"/manage/producers/{s.own.producer.id}/edit",
            {"name": s.own.producer.name, "kind": "cooperative", "tax_code": s.own.producer.tax_code, **data},
        ),
        lambda api, s, body: api.request("PATCH", f"/producers/{s.own.producer.id}", s.own.staff, json=body),
        Producer,
    ),
    "reject-producer": Operation(
        "reject a producer / POST /producers/{id}/reject",
        lambda web, s, data: _signed_in(web, s.own.staff).post_form(
            f"/manage/producers/{s.pending.id}/reject", data, form_url=f"/manage/producers/{s.pending.id}"
        ),
        lambda api, s, body: api.post(f"/producers/{s.pending.id}/reject", s.own.staff, json=body),
        Producer,
    ),
    "product": Operation(
        "new product / POST /products",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            PRODUCT_PAGE, {"name": "Cà phê hạt", **data}
        ),
        lambda api, s, body: api.post("/products", s.own.producer_user, json={"name": "Cà phê hạt"} | body),
        Product,
    ),
    "location": Operation(
        "new location / POST /locations",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            LOCATION_PAGE, {"name": "Kho Ea Tu", "kind": "warehouse", "province_code": "66", **data}
        ),
        lambda api, s, body: api.post(
            "/locations", s.own.producer_user, json={"name": "Kho Ea Tu", "kind": "warehouse"} | body
        ),
        Location,
    ),
    "certification": Operation(
        "new certification / POST /certifications",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            "/manage/certifications/new",
            {
                "subject": f"producer:{s.own.producer.id}",
                "type": "vietgap",
                "number": "VG-2026-01",
                "issuer": "Trung tâm Chứng nhận",
                "valid_from": "2026-01-01",
                "valid_to": "2028-01-01",
                **data,
            },
        ),
        lambda api, s, body: api.post(
            "/certifications",
            s.own.producer_user,
            json={
                "scope": "producer",
                "subject_id": s.own.producer.id,
                "type": "vietgap",
                "number": "VG-2026-01",
                "issuer": "Trung tâm Chứng nhận",
                "valid_from": "2026-01-01",
                "valid_to": "2028-01-01",
            }
            | body,
        ),
        Certification,
    ),
    "reject-certification": Operation(
        "reject a certification / POST /certifications/{id}/reject",
        lambda web, s, data: _signed_in(web, s.own.staff).post_form(
            f"/manage/certifications/{s.certification.id}/reject",
            data,
            form_url=f"/manage/certifications/{s.certification.id}",
        ),
        lambda api, s, body: api.post(f"/certifications/{s.certification.id}/reject", s.own.staff, json=body),
        Certification,
    ),
    "batch": Operation(
        "new batch / POST /batches",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            "/manage/batches/new",
            {
                "product_id": str(s.own.product.id),
                "lot_code": "RANG-77",
                "production_date": "2026-10-10",
                "quantity": "300",
                "unit": "KGM",
                "input_kind": "transformation",
                **data,
            },
        ),
        lambda api, s, body: api.post(
            "/batches",
            s.own.producer_user,
            json={
                "product_id": s.own.product.id,
                "lot_code": "RANG-77",
                "production_date": "2026-10-10",
                "quantity": 300,
                "unit": "KGM",
            }
            | body,
        ),
        Batch,
    ),
    "event": Operation(
        "record an event / POST /batches/{id}/events",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            f"/manage/batches/{s.own.batch.id}", {"type": "packing", "time": EVENT_TIME, **data}
        ),
        lambda api, s, body: api.post(
            f"/batches/{s.own.batch.id}/events",
            s.own.producer_user,
            json={"type": "packing", "time": EVENT_TIME + ":00+07:00"} | body,
        ),
        TraceEvent,
    ),
    "correction": Operation(
        "correct an event / POST /batches/{id}/events/{eid}/correct",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            f"/manage/batches/{s.own.batch.id}/events/{s.event.id}/correct",
            {"type": "packing", "time": EVENT_TIME, "reason": "Đếm lại", **data},
        ),
        lambda api, s, body: api.post(
            f"/batches/{s.own.batch.id}/events/{s.event.id}/correct",
            s.own.producer_user,
            json={"type": "packing", "time": EVENT_TIME + ":00+07:00", "reason": "Đếm lại"} | body,
        ),
        TraceEvent,
    ),
    "close-recall": Operation(
        "close a recall / POST /recalls/{id}/close",
        lambda web, s, data: _signed_in(web, s.own.staff).post_form(
            f"/manage/recalls/{s.recall.id}", {"close-outcome": "withdrawn", "close-note": "Xong", **data}
        ),
        lambda api, s, body: api.post(
            f"/recalls/{s.recall.id}/close", s.own.staff, json={"outcome": "withdrawn", "note": "Xong"} | body
        ),
        Recall,
    ),
    "serials": Operation(
        "create items / POST /batches/{id}/serials",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            f"/manage/batches/{s.own.batch.id}/serials",
            {"serials-template": "", "serials-ec": "M", **data},
            form_url=f"/manage/batches/{s.own.batch.id}",
            follow_redirects=True,
        ),
        lambda api, s, body: api.post(f"/batches/{s.own.batch.id}/serials", s.own.producer_user, json=body),
        Item,
    ),
    "labels": Operation(
        "print labels / POST /batches/{id}/label-jobs",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            f"/manage/batches/{s.own.batch.id}/labels",
            {"labels-template": "a4-3x8", "labels-ec": "M", **data},
            form_url=f"/manage/batches/{s.own.batch.id}",
            follow_redirects=True,
        ),
        lambda api, s, body: api.post(
            f"/batches/{s.own.batch.id}/label-jobs", s.own.producer_user, json={"template": "a4-3x8"} | body
        ),
        Item,
    ),
    "inspection": Operation(
        "record an inspection / POST /inspections",
        lambda web, s, data: _signed_in(web, s.own.staff).post_form(
            f"/manage/inspections/new?subject=producer:{s.own.producer.id}",
            {
                **{f"checklist-{code}": "yes" for code in checklist_for("producer")},
                "inspected_on": TODAY.isoformat(),
                "inspector": "Trần Thị Thanh",
                "outcome": "conforming",
                **data,
            },
            content_type="multipart/form-data",
        ),
        lambda api, s, body: api.post(
            "/inspections",
            s.own.staff,
            json={
                "subject_kind": "producer",
                "subject_id": s.own.producer.id,
                "inspected_on": TODAY.isoformat(),
                "inspector": "Trần Thị Thanh",
                "checklist": checklist("producer"),
                "outcome": "conforming",
            }
            | body,
        ),
        Inspection,
    ),
    "answer": Operation(
        "answer a nonconformity / POST /inspections/{id}/answer",
        lambda web, s, data: _signed_in(web, s.own.producer_user).post_form(
            f"/manage/inspections/{s.inspection.id}/answer",
            data,
            form_url=f"/manage/inspections/{s.inspection.id}",
            content_type="multipart/form-data",
        ),
        lambda api, s, body: api.post(
            f"/inspections/{s.inspection.id}/answer", s.own.producer_user, json=body
        ),
        Inspection,
    ),
    "reopen": Operation(
        "reopen a nonconformity / POST /inspections/{id}/reopen",
        lambda web, s, data: _signed_in(web, s.own.staff).post_form(
            f"/manage/inspections/{s.answered.id}/reopen",
            data,
            form_url=f"/manage/inspections/{s.answered.id}",
        ),
        lambda api, s, body: api.post(f"/inspections/{s.answered.id}/reopen", s.own.staff, json=body),
        Inspection,
    ),
    "sign-in": Operation(
        "sign in / POST /tokens",
        lambda web, s, data: web.post_form("/login", {"password": "whatever-it-is", **data}),
        lambda api, s, body: api.client.post("/api/v1/tokens", json={"password": "whatever-it-is"} | body),
        User,
    ),
}

LONG_EMAIL = "a" * 245 + "@htx.vn.vn"  # 255 characters

# (operation, web field, the API's path to the field, the value just over the limit, the message)
CASES = [
    ("sign-up", "name", ("name",), "x" * 301, "Length must be between 1 and 300."),
    ("sign-up", "tax_code", ("tax_code",), "1" * 15, "Longer than maximum length 14."),
    ("sign-up", "ward", ("ward",), "x" * 201, "Longer than maximum length 200."),
    ("sign-up", "street", ("address",), "x" * 301, "Longer than maximum length 300."),
    ("sign-up", "phone", ("phone",), "0" * 31, "Longer than maximum length 30."),
    ("sign-up", "email", ("email",), LONG_EMAIL, "Longer than maximum length 254."),
    ("profile", "website", ("website",), "https://" + "x" * 493, "Longer than maximum length 500."),
    ("profile", "previous_ward", ("previous_ward",), "x" * 201, "Longer than maximum length 200."),
    ("profile", "previous_street", ("previous_street",), "x" * 301, "Longer than maximum length 300."),
    ("reject-producer", "reason", ("reason",), "x" * 2001, "Length must be between 1 and 2000."),
    ("product", "name", ("name",), "x" * 301, "Length must be between 1 and 300."),
    ("product", "name_en", ("name_en",), "x" * 301, "Longer than maximum length 300."),
    ("product", "description", ("description",), "x" * 5001, "Longer than maximum length 5000."),
    ("product", "category", ("category",), "x" * 101, "Longer than maximum length 100."),
    ("product", "brand", ("brand",), "x" * 201, "Longer than maximum length 200."),
    ("product", "gtin", ("gtin",), "0" * 15, "Longer than maximum length 14."),
    ("product", "standards", ("standards",), "x" * 501, "Longer than maximum length 500."),
    ("product", "tech_origin", ("tech_origin",), "x" * 501, "Longer than maximum length 500."),
    (
        "product",
        "declared_revenue_vnd",
        ("declared_revenue_vnd",),
        10**15 + 1,
        "Must be between 0 and 1000000000000000.",
    ),
    ("location", "name", ("name",), "x" * 301, "Length must be between 1 and 300."),
    ("location", "ward", ("ward",), "x" * 201, "Longer than maximum length 200."),
    ("location", "street", ("address",), "x" * 301, "Longer than maximum length 300."),
    ("location", "gln", ("gln",), "1" * 14, "Longer than maximum length 13."),
    ("certification", "number", ("number",), "x" * 101, "Length must be between 1 and 100."),
    ("certification", "issuer", ("issuer",), "x" * 301, "Length must be between 1 and 300."),
    ("reject-certification", "reason", ("reason",), "x" * 2001, "Length must be between 1 and 2000."),
    ("batch", "lot_code", ("lot_code",), "L" * 21, "Length must be between 1 and 20."),
    ("batch", "quantity", ("quantity",), -1, "Must be at least 0."),
    ("event", "note", ("note",), "x" * 2001, "Longer than maximum length 2000."),
    ("event", "counterparty", ("counterparty",), "x" * 301, "Longer than maximum length 300."),
    ("event", "reference", ("reference",), "x" * 101, "Longer than maximum length 100."),
    ("event", "quantity", ("quantity",), -1, "Must be at least 0."),
    ("correction", "reason", ("reason",), "x" * 2001, "Length must be between 1 and 2000."),
    ("close-recall", "close-note", ("note",), "x" * 2001, "Longer than maximum length 2000."),
    ("serials", "serials-count", ("count",), 10_001, "Must be between 1 and 10000."),
    ("labels", "labels-copies", ("copies",), 10_001, "Must be between 1 and 10000."),
    ("inspection", "inspector", ("inspector",), "x" * 201, "Length must be between 1 and 200."),
    ("inspection", "findings", ("findings",), "x" * (MAX_TEXT + 1), "Longer than maximum length 10000."),
    ("answer", "response", ("response",), "x" * (MAX_TEXT + 1), "Length must be between 1 and 10000."),
    ("reopen", "reason", ("reason",), "x" * (MAX_TEXT + 1), "Length must be between 1 and 10000."),
    ("sign-in", "email", ("email",), LONG_EMAIL, "Longer than maximum length 254."),
]


@pytest.mark.parametrize(
    ("operation", "web_field", "api_path", "value", "message"),
    CASES,
    ids=[f"{case[0]}:{case[1]}" for case in CASES],
)
def test_a_value_over_a_limit_is_refused_by_the_web_and_the_api_with_the_same_words(
    web, api, db, scene, operation, web_field, api_path, value, message
):
    op = OPERATIONS[operation]
    before = _count(db, op.model)

    body: dict[str, Any] = {api_path[0]: value}
    answer = _api_refusal(op.api(api, scene, body), api_path)
    page = op.web(web, scene, {web_field: str(value)})

    assert answer == message
    assert page.status_code in (200, 401, 422), page.status_code  # the form again, or the batch page
    assert message in _page(page)
    assert _count(db, op.model) == before


def test_an_ocop_certificate_number_over_its_column_is_refused_alike(web, api, db, scene):
    own = scene.own
    body = {"ocop": {"group": "food", "stars": 4, "certificate_no": "x" * 101}}
    answer = _api_refusal(
        api.post("/products", own.producer_user, json={"name": "Mật ong"} | body), ("ocop", "certificate_no")
    )
    web.login(own.producer_user.email)
    page = web.post_form(
        PRODUCT_PAGE,
        {"name": "Mật ong", "ocop-group": "food", "ocop-stars": "4", "ocop-certificate_no": "x" * 101},
    )
    assert answer == "Longer than maximum length 100."
    assert page.status_code == 422 and answer in _page(page)
    assert db.session.scalar(select(Product).where(Product.name == "Mật ong")) is None


def test_a_checklist_note_over_its_limit_is_refused_alike(web, api, scene):
    own = scene.own
    code = checklist_for("producer")[0]
    rows = checklist("producer")
    rows[0]["note"] = "x" * (MAX_NOTE + 1)
    response = api.post(
        "/inspections",
        own.staff,
        json={
            "subject_kind": "producer",
            "subject_id": own.producer.id,
            "inspected_on": TODAY.isoformat(),
            "inspector": "Trần Thị Thanh",
            "checklist": rows,
            "outcome": "conforming",
        },
    )
    answer = _api_refusal(response, ("checklist", "0", "note"))
    page = OPERATIONS["inspection"].web(web, scene, {f"notes-{code}": "x" * (MAX_NOTE + 1)})
    assert answer == "Longer than maximum length 2000."
    assert page.status_code == 422 and answer in _page(page)


def test_the_gtin_limit_is_the_column_s_in_vietnamese_too(web, api, client, scene):
    """The GTIN was 20 characters on the web and 14 in the API: now 14 in both, with the same words."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    own = scene.own
    answer = _api_refusal(
        api.post("/products", own.producer_user, json={"name": "Tiêu", "gtin": "0" * 15}), ("gtin",)
    )
    web.login(own.producer_user.email)
    form = web.client.get(PRODUCT_PAGE).get_data(as_text=True)
    page = web.post_form(PRODUCT_PAGE, {"name": "Tiêu", "gtin": "0" * 15})
    assert answer == "Dài quá mức tối đa 14 ký tự."
    assert page.status_code == 422 and answer in _page(page)
    assert re.search(
        r'<input[^>]*maxlength="14"[^>]*name="gtin"|<input[^>]*name="gtin"[^>]*maxlength="14"', form
    )


def test_a_refused_recall_reason_stores_nothing_on_the_web_or_the_api(web, api, db, scene):
    """The recall button's form goes back to the batch page with a message of its own (the view's)."""
    own = scene.own
    before = _count(db, Recall)
    answer = _api_refusal(
        api.post(f"/batches/{own.batch.id}/recall", own.producer_user, json={"reason": "x" * 2001}),
        ("reason",),
    )
    web.login(own.producer_user.email)
    page = web.post_form(
        f"/manage/batches/{own.batch.id}/recall",
        {"recall-reason": "x" * 2001},
        form_url=f"/manage/batches/{own.batch.id}",
    )
    assert answer == "Length must be between 1 and 2000."
    assert page.status_code == 302
    assert _count(db, Recall) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gtin", "0" * 15, "Length must be between 1 and 14."),
        ("gs1_membership_no", "x" * 101, "Longer than maximum length 100."),
        ("gs1_company_prefix", "1" * 13, "Longer than maximum length 12."),
        ("note", "x" * 2001, "Longer than maximum length 2000."),
    ],
)
def test_a_gtin_dispute_over_a_limit_is_refused_alike(web, api, db, make, scene, field, value, message):
    own = scene.own
    product = make.product(own.producer, name="Cà phê chưa có mã")
    db.session.commit()
    body = {"gtin": "08930000000026", "product_id": product.id, "gs1_membership_no": "GS1-123"} | {
        field: value
    }
    answer = _api_refusal(api.post("/gtin-disputes", own.producer_user, json=body), (field,))
    assert answer == message
    web.login(own.producer_user.email)
    page = web.post_form("/manage/gtin-disputes/new", {k: str(v) for k, v in body.items()})
    assert page.status_code == 422 and message in _page(page)
    assert _count(db, GtinDispute) == 0


def test_the_dispute_form_refuses_what_the_api_refuses(app, db, make, scene):
    """The dispute form itself (whichever view shows it) loads through the API's schema."""
    from werkzeug.datastructures import MultiDict

    with app.test_request_context(headers={"Accept-Language": "en"}):
        form = DisputeForm(
            formdata=MultiDict({"gtin": "0" * 15, "product_id": "1", "note": "x" * 2001}),
            meta={"csrf": False},
        )
        form.product_id.choices = [(1, "Cà phê")]
        assert not form.validate()
        assert form.gtin.errors == ["Length must be between 1 and 14."]
        assert form.note.errors == ["Longer than maximum length 2000."]


# ---------------------------------------------------------------- the walks over forms and schemas

RENAMES = {"address": "street", "reference": "reference_number", "time": "event_time"}

SCHEMA_COLUMNS: dict[type[Schema], dict[str, Any]] = {
    ProducerInSchema: model_columns(Producer),
    ProducerUpdateSchema: model_columns(Producer),
    ProductFieldsSchema: model_columns(Product),
    ProductInSchema: model_columns(Product),
    OcopSchema: {"certificate_no": Certification.number},
    LocationFieldsSchema: model_columns(Location),
    LocationInSchema: model_columns(Location),
    CertificationInSchema: model_columns(Certification),
    GtinDisputeInSchema: model_columns(GtinDispute),
    BatchInSchema: model_columns(Batch),
    EventInSchema: model_columns(TraceEvent),
    EventCorrectionSchema: model_columns(TraceEvent),
    InspectionInSchema: model_columns(Inspection),
    TokenRequestSchema: {"email": User.email, "name": ApiToken.name},
}
CREATE_SCHEMAS = {
    ProducerInSchema,
    ProductInSchema,
    LocationInSchema,
    CertificationInSchema,
    GtinDisputeInSchema,
    BatchInSchema,
    EventInSchema,
    InspectionInSchema,
}

# Columns a create operation fills in when the caller leaves them out.
FILLED_IN = {
    (ProductInSchema, "producer_id"),  # a producer user's own producer
    (LocationInSchema, "producer_id"),
    (LocationInSchema, "province_code"),  # the producer's province
}

FORM_COLUMNS: dict[type, dict[str, Any]] = {
    SignUpForm: model_columns(Producer) | {"user_name": User.name, "user_email": User.email},
    ProducerProfileForm: model_columns(Producer),
    ProductForm: model_columns(Product),
    NewProductForm: model_columns(Product),
    OcopForm: {"certificate_no": Certification.number},
    LocationForm: model_columns(Location),
    NewLocationForm: model_columns(Location),
    CertificationDataForm: model_columns(Certification),
    DisputeForm: model_columns(GtinDispute),
    BatchForm: model_columns(Batch),
    EventForm: model_columns(TraceEvent),
    CorrectionForm: model_columns(TraceEvent),
    UserForm: model_columns(User),
    LoginForm: model_columns(User),
    ContractForm: model_columns(CentreContract),
    ProcessForm: model_columns(TechnologyProcess),
    TaskForm: model_columns(ScienceTask),
    AuditFilterForm: {"user": User.email, "object_id": AuditEntry.object_id},
}


def _column(columns: dict[str, Any], name: str) -> Any:
    return columns.get(RENAMES.get(name, name), columns.get(name))


def _has_length(column: Any) -> bool:
    try:
        column_length(column)
    except TypeError:
        return False
    return True


def _schema_bounds(field: fields.Field, kind: type) -> tuple[Any, Any] | None:
    for validator in field.validators:
        if isinstance(validator, kind):
            return validator.min, validator.max
    return None


def _unbound_fields(form_class: type) -> dict[str, UnboundField]:
    return {
        name: value
        for name in dir(form_class)
        if isinstance(value := getattr(form_class, name), UnboundField)
    }


def _form_bounds(unbound: UnboundField, kind: type) -> tuple[Any, Any] | None:
    for validator in unbound.kwargs.get("validators") or ():
        if isinstance(validator, kind):
            low, high = validator.min, validator.max
            if kind is validators.Length:
                return (None if low == -1 else low), (None if high == -1 else high)
            return low, high
    return None


@pytest.mark.parametrize("schema", list(SCHEMA_COLUMNS), ids=lambda schema: schema.__name__)
def test_every_schema_length_is_its_column_s(schema):
    columns = SCHEMA_COLUMNS[schema]
    checked = 0
    for name, field in schema().load_fields.items():
        column = _column(columns, field.data_key or name)
        if column is None:
            continue
        choices = next((v.choices for v in field.validators if isinstance(v, validate.OneOf)), None)
        if isinstance(field, fields.String) and _has_length(column) and choices is not None:
            assert max(len(choice) for choice in choices) <= column_length(column), name
        elif isinstance(field, fields.String) and _has_length(column):
            assert _schema_bounds(field, validate.Length) is not None, name
            assert _schema_bounds(field, validate.Length)[1] == column_length(column), name
            checked += 1
        if schema in CREATE_SCHEMAS and column_required(column) and (schema, name) not in FILLED_IN:
            assert field.required, f"{schema.__name__}.{name}: its column needs a value"
    assert checked, f"{schema.__name__} has no text field with a column's length"


@pytest.mark.parametrize("form_class", list(FORM_COLUMNS), ids=lambda form: form.__name__)
def test_every_form_length_is_its_column_s(form_class):
    columns = FORM_COLUMNS[form_class]
    checked = 0
    for name, unbound in _unbound_fields(form_class).items():
        column = _column(columns, name)
        if column is None or not _has_length(column) or unbound.field_class.__name__ not in TEXT_FIELDS:
            continue
        bounds = _form_bounds(unbound, validators.Length)
        assert bounds is not None and bounds[1] == column_length(column), f"{form_class.__name__}.{name}"
        checked += 1
    assert checked, f"{form_class.__name__} has no field with a column's length"


def _schema_forms() -> list[type[SchemaForm]]:
    for module in pkgutil.walk_packages(traceability.__path__, "traceability."):
        if module.name.endswith(("forms", "_forms")):
            importlib.import_module(module.name)
    found, waiting = [], list(SchemaForm.__subclasses__())
    while waiting:
        form_class = waiting.pop()
        found.append(form_class)
        waiting.extend(form_class.__subclasses__())
    return sorted(set(found), key=lambda form: form.__qualname__)


TEXT_FIELDS = ("StringField", "EmailField", "TextAreaField", "PasswordField")
NUMBER_FIELDS = ("IntegerField", "DecimalField", "FloatField")


def _compare_with_schema(form_class: type, schema: Schema, names: dict[str, str]) -> int:
    """Every limit of a form field the schema loads too is the schema's; the count of fields compared."""
    compared = 0
    for name, unbound in _unbound_fields(form_class).items():
        field = schema.load_fields.get(names.get(name, name))
        if field is None:
            continue
        if unbound.field_class is FormField and isinstance(field, fields.Nested):
            compared += _compare_with_schema(unbound.args[0], field.schema, {})
            continue
        kind = unbound.field_class.__name__
        if kind in TEXT_FIELDS:
            on_form, in_schema = (
                _form_bounds(unbound, validators.Length),
                _schema_bounds(field, validate.Length),
            )
        elif kind in NUMBER_FIELDS:
            on_form, in_schema = (
                _form_bounds(unbound, validators.NumberRange),
                _schema_bounds(field, validate.Range),
            )
        else:
            continue  # a choice: the form offers only what the schema takes
        assert on_form == in_schema, (
            f"{form_class.__name__}.{name}: {on_form} on the form, {in_schema} in the API"
        )
        compared += 1
    return compared


def test_every_web_form_of_an_api_operation_has_the_api_s_limits():
    forms = _schema_forms()
    assert {SignUpForm, ProductForm, LocationForm, BatchForm, EventForm, DisputeForm} <= set(forms)
    for form_class in forms:
        assert form_class.schema is not None, form_class.__name__
        compared = _compare_with_schema(form_class, form_class.contract(), dict(form_class.schema_names))
        # A form of choices only (the notification settings) has no limit to share: it offers what the schema takes.
        only_choices = not any(
            unbound.field_class.__name__ in TEXT_FIELDS + NUMBER_FIELDS
            for unbound in _unbound_fields(form_class).values()
        )
        assert compared or only_choices, (
            f"{form_class.__name__} shares no limit with {form_class.schema.__name__}"
        )


LITERAL_LENGTH = re.compile(r"\b(?:Length\([^)]*\bmax=\s*\d|text(?:_validators)?\(\s*\d)")


def test_no_form_or_schema_writes_a_length_as_a_number():
    """Limits are columns or named constants: a literal would drift from the column again."""
    root = Path(traceability.__file__).parent
    files = [
        *root.glob("*/forms.py"),
        *root.glob("*/*_forms.py"),
        *root.glob("*/contracts.py"),
        *root.glob("api/*.py"),
        root / "http" / "forms.py",
    ]
    offenders = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if LITERAL_LENGTH.search(line)
    ]
    assert offenders == []
