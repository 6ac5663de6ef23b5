"""Recording a centre's contracts, technology processes and S&T tasks: rules, forms and who may do what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from traceability.core.dates import vietnam_today
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.text import parse_vnd
from traceability.models.audit import AuditEntry
from traceability.models.reports import CentreContract, ScienceTask, TechnologyProcess
from traceability.reports.centre_work import delete_record, save_contract, save_process, save_task

EN = {"Accept-Language": "en"}


def _contract(**overrides):
    return {
        "kind": "technology_transfer",
        "number": "15/2026/HĐ-CGCN",
        "counterparty": "HTX Nông nghiệp Hòa Phú",
        "signed_on": date(2026, 3, 10),
        "value_vnd": 450_000_000,
        "description": "Chuyển giao quy trình rang cà phê bằng khí nóng.",
        **overrides,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.500.000.000", 1_500_000_000),
        ("1,500,000", 1_500_000),
        ("250 000 000 đ", 250_000_000),
        ("0", 0),
        ("12", 12),
        (7, 7),
        ("1.5", None),
        ("abc", None),
        ("", None),
        ("-5", None),
        (True, None),
    ],
)
def test_amounts_are_read_as_people_write_them(text, value):
    assert parse_vnd(text) == value


def test_staff_record_a_contract_linked_to_products_and_it_is_audited(db, tenants):
    staff, product = tenants["daklak"].staff, tenants["daklak"].product
    contract = save_contract(_contract(value_vnd="450.000.000", product_ids=[product.id]), actor=staff)
    db.session.commit()
    assert contract.centre_id == tenants["daklak"].centre.id
    assert contract.value_vnd == 450_000_000 and contract.products == [product]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "CentreContract")).one()
    assert entry.action == "create" and entry.after["product_ids"] == [product.id]
    assert entry.centre_id == contract.centre_id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "loan"}, "kind"),
        ({"number": " "}, "number"),
        ({"counterparty": ""}, "counterparty"),
        ({"signed_on": None}, "signed_on"),
        ({"signed_on": "31/02/2026"}, "signed_on"),
        ({"value_vnd": "một tỷ"}, "value_vnd"),
        ({"value_vnd": -1}, "value_vnd"),
        ({"value_vnd": 10**16}, "value_vnd"),
    ],
)
def test_a_contract_with_a_wrong_field_is_refused_and_says_which(db, tenants, changes, field):
    with pytest.raises(InvalidInput) as refused:
        save_contract(_contract(**changes), actor=tenants["daklak"].staff)
    assert field in refused.value.fields


def test_a_future_signing_date_is_refused(tenants):
    with pytest.raises(InvalidInput) as refused:
        save_contract(_contract(signed_on=vietnam_today() + timedelta(days=1)), actor=tenants["daklak"].staff)
    assert "signed_on" in refused.value.fields


def test_only_the_centres_own_products_can_be_linked(tenants):
    with pytest.raises(InvalidInput) as refused:
        save_contract(_contract(product_ids=[tenants["nghean"].product.id]), actor=tenants["daklak"].staff)
    assert "product_ids" in refused.value.fields


def test_a_contract_number_is_unique_within_the_centre_only(db, tenants):
    save_contract(_contract(), actor=tenants["daklak"].staff)
    with pytest.raises(Conflict) as refused:
        save_contract(_contract(), actor=tenants["daklak"].admin)
    assert "number" in refused.value.fields
    save_contract(_contract(), actor=tenants["nghean"].staff)  # another centre may use the same number


@pytest.mark.parametrize("who", ["auditor", "ministry", "producer_user"])
def test_readers_and_producers_cannot_record(tenants, who):
    user = tenants["ministry"] if who == "ministry" else getattr(tenants["daklak"], who)
    with pytest.raises(Forbidden):
        save_contract(_contract(), actor=user)


def test_another_centre_cannot_change_or_delete_a_record(db, tenants):
    contract = save_contract(_contract(), actor=tenants["daklak"].staff)
    with pytest.raises(Forbidden):
        save_contract(_contract(number="X"), actor=tenants["nghean"].staff, contract=contract)
    with pytest.raises(Forbidden):
        delete_record(contract, actor=tenants["nghean"].staff)


def test_a_process_and_a_task_follow_their_rules(db, tenants):
    staff = tenants["daklak"].staff
    process = save_process(
        {"name": "Quy trình lên men cà phê", "mastered_on": date(2026, 5, 2), "product_ids": []}, actor=staff
    )
    assert process.mastered_on == date(2026, 5, 2)
    task = {
        "name": "Nghiên cứu chế biến",
        "code": "ĐTCS.2026.01",
        "level": "province",
        "starts_on": date(2025, 1, 1),
        "ends_on": None,
        "status": "in_progress",
    }
    assert save_task(task, actor=staff).ends_on is None
    with pytest.raises(InvalidInput) as refused:
        save_task({**task, "code": "B", "status": "accepted"}, actor=staff)
    assert "ends_on" in refused.value.fields  # accepted needs its end date
    with pytest.raises(InvalidInput) as refused:
        save_task({**task, "code": "C", "ends_on": date(2024, 12, 31)}, actor=staff)
    assert "ends_on" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        save_task({**task, "code": "D", "level": "village"}, actor=staff)
    assert "level" in refused.value.fields
    with pytest.raises(Conflict):
        save_task(task, actor=staff)


def test_updating_keeps_one_record_and_audits_before_and_after(db, tenants):
    staff, product = tenants["daklak"].staff, tenants["daklak"].product
    contract = save_contract(_contract(), actor=staff)
    save_contract(_contract(value_vnd=500_000_000, product_ids=[product.id]), actor=staff, contract=contract)
    db.session.commit()
    assert db.session.scalars(select(CentreContract)).one().value_vnd == 500_000_000
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.before["value_vnd"] == 450_000_000 and entry.after["value_vnd"] == 500_000_000
    assert entry.before["product_ids"] == [] and entry.after["product_ids"] == [product.id]


# ---------------------------------------------------------------- web


def test_staff_record_a_contract_through_the_form(client, web, db, tenants):
    t = tenants["daklak"]
    web.login(t.staff.email)
    form = {
        "kind": "service",
        "number": "07/2026/HĐDV",
        "counterparty": "Công ty TNHH Krông Pắc Xanh",
        "signed_on": "2026-04-02",
        "value_vnd": "1.250.000.000",
        "description": "",
        "product_ids": [str(t.product.id)],
    }
    response = web.post_form("/manage/centre-work/contracts/new", form)
    assert response.status_code == 302
    contract = db.session.scalars(select(CentreContract)).one()
    assert (contract.kind, contract.value_vnd, [p.id for p in contract.products]) == (
        "service",
        1_250_000_000,
        [t.product.id],
    )
    page = client.get("/manage/centre-work", headers=EN).get_data(as_text=True)
    assert "07/2026/HĐDV" in page and "1,250,000,000" in page


def test_the_form_shows_what_to_fix_and_saves_nothing(client, web, db, tenants):
    web.login(tenants["daklak"].staff.email)
    form = {
        "kind": "service",
        "number": "A",
        "counterparty": "B",
        "signed_on": "2026-04-02",
        "value_vnd": "nhiều",
    }
    response = web.post_form("/manage/centre-work/contracts/new", form, headers=EN)
    assert response.status_code == 422
    assert "The value in đồng, digits only" in response.get_data(as_text=True)
    assert db.session.scalars(select(CentreContract)).all() == []


def test_a_product_of_another_centre_is_not_a_choice(client, web, db, tenants):
    web.login(tenants["daklak"].staff.email)
    form = {
        "name": "Quy trình",
        "mastered_on": "2026-01-05",
        "product_ids": [str(tenants["nghean"].product.id)],
    }
    response = web.post_form("/manage/centre-work/processes/new", form, headers=EN)
    assert response.status_code == 422
    assert db.session.scalars(select(TechnologyProcess)).all() == []


def test_staff_edit_and_delete_a_task(client, web, db, tenants):
    t = tenants["daklak"]
    task = save_task(
        {
            "name": "Nhiệm vụ",
            "code": "NV-01",
            "level": "grassroots",
            "starts_on": date(2026, 1, 1),
            "ends_on": None,
            "status": "in_progress",
        },
        actor=t.staff,
    )
    db.session.commit()
    web.login(t.admin.email)
    edit = f"/manage/centre-work/tasks/{task.id}/edit"
    assert 'value="NV-01"' in client.get(edit).get_data(as_text=True)
    form = {
        "name": "Nhiệm vụ",
        "code": "NV-01",
        "level": "province",
        "starts_on": "2026-01-01",
        "ends_on": "2026-10-30",
        "status": "accepted",
    }
    assert web.post_form(edit, form).status_code == 302
    db.session.expire_all()
    assert (task.level, task.status, task.ends_on) == ("province", "accepted", date(2026, 10, 30))
    response = web.post_form(
        f"/manage/centre-work/tasks/{task.id}/delete", {}, form_url="/manage/centre-work"
    )
    assert response.status_code == 302
    assert db.session.scalars(select(ScienceTask)).all() == []
    assert (
        db.session.scalar(select(AuditEntry.before).where(AuditEntry.action == "delete"))["code"] == "NV-01"
    )


def test_who_sees_and_who_writes(client, web, db, tenants):
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    mine = save_contract(_contract(number="DL-1"), actor=daklak.staff)
    save_contract(_contract(number="NA-1"), actor=nghean.staff)
    db.session.commit()
    web.login(daklak.auditor.email)
    page = client.get("/manage/centre-work").get_data(as_text=True)
    assert "DL-1" in page and "NA-1" not in page and "/new" not in page
    assert client.get("/manage/centre-work/contracts/new").status_code == 403
    web.login(tenants["ministry"].email)
    page = client.get("/manage/centre-work").get_data(as_text=True)
    assert "DL-1" in page and "NA-1" in page
    assert client.get("/manage/centre-work/contracts/new").status_code == 403
    web.login(nghean.staff.email)
    assert client.get(f"/manage/centre-work/contracts/{mine.id}/edit").status_code == 404
    web.login(daklak.producer_user.email)
    assert client.get("/manage/centre-work").status_code == 403
