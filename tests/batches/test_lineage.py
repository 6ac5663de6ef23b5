"""Lineage, mass balance, trace queries and recalls."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import close_recall, recall_batch, recalls_affecting
from traceability.batches.trace import related_batch_ids, trace
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.models.batches import Batch, BatchInput


@pytest.fixture
def coffee_chain(make, tenants):
    """Green beans → roasted → ground and packed → a shipment: four steps of one producer."""
    own = tenants["daklak"]
    beans_product = make.product(own.producer, name="Cà phê nhân")
    roasted_product = make.product(own.producer, name="Cà phê rang")
    ground_product = make.product(own.producer, name="Cà phê bột")
    beans = make.batch(beans_product, lot_code="NHAN-01", quantity=Decimal("1000"))
    roasted = make.batch(roasted_product, lot_code="RANG-01", quantity=Decimal("800"))
    ground = make.batch(ground_product, lot_code="BOT-01", quantity=Decimal("780"), unit="KGM")
    shipment = make.batch(ground_product, lot_code="SHIP-01", quantity=Decimal("500"))
    actor = own.producer_user
    add_inputs(
        roasted, [{"batch_id": beans.id, "quantity": Decimal("1000")}], kind="transformation", actor=actor
    )
    add_inputs(
        ground, [{"batch_id": roasted.id, "quantity": Decimal("800")}], kind="transformation", actor=actor
    )
    add_inputs(
        shipment, [{"batch_id": ground.id, "quantity": Decimal("500")}], kind="aggregation", actor=actor
    )
    return {
        "beans": beans,
        "roasted": roasted,
        "ground": ground,
        "shipment": shipment,
        "actor": actor,
        "own": own,
    }


def test_mass_balance_refusal_says_how_much_is_left(make, tenants):
    own = tenants["daklak"]
    source = make.batch(own.product, lot_code="SRC", quantity=Decimal("100"))
    first = make.batch(own.product, lot_code="OUT1")
    second = make.batch(own.product, lot_code="OUT2")
    add_inputs(
        first,
        [{"batch_id": source.id, "quantity": Decimal("60")}],
        kind="transformation",
        actor=own.producer_user,
    )
    with pytest.raises(InvalidInput) as caught:
        add_inputs(
            second,
            [{"batch_id": source.id, "quantity": Decimal("41")}],
            kind="transformation",
            actor=own.producer_user,
        )
    message = str(caught.value.fields["inputs.0"])
    assert "40" in message and "KGM" in message and "SRC" in message


def test_using_everything_marks_the_input_consumed(coffee_chain):
    assert coffee_chain["beans"].status == "consumed"
    assert coffee_chain["ground"].status == "active"  # 500 of 780 kg shipped


def test_an_input_outside_the_tenant_is_unknown(make, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    output = make.batch(own.product, lot_code="OUT")
    with pytest.raises(InvalidInput) as caught:
        add_inputs(
            output,
            [{"batch_id": other.batch.id, "quantity": Decimal("1")}],
            kind="transformation",
            actor=own.producer_user,
        )
    assert "inputs.0" in caught.value.fields


def test_a_cycle_is_refused(coffee_chain):
    with pytest.raises(InvalidInput):
        add_inputs(
            coffee_chain["beans"],
            [{"batch_id": coffee_chain["ground"].id, "quantity": Decimal("1")}],
            kind="transformation",
            actor=coffee_chain["actor"],
        )


def test_trace_upstream_and_downstream(coffee_chain, db):
    ground, beans = coffee_chain["ground"], coffee_chain["beans"]
    assert related_batch_ids(ground.id, "upstream") == {coffee_chain["roasted"].id: 1, beans.id: 2}
    assert related_batch_ids(beans.id, "downstream") == {
        coffee_chain["roasted"].id: 1,
        ground.id: 2,
        coffee_chain["shipment"].id: 3,
    }
    result = trace(beans, "downstream")
    assert {node.lot_code for node in result.nodes} == {"NHAN-01", "RANG-01", "BOT-01", "SHIP-01"}
    assert len(result.edges) == 3


def test_trace_api_returns_nodes_and_edges(api, coffee_chain):
    body = api.get(
        f"/batches/{coffee_chain['shipment'].id}/trace?direction=upstream", coffee_chain["own"].staff
    ).get_json()
    assert {node["lot_code"]: node["depth"] for node in body["nodes"]} == {
        "SHIP-01": 0,
        "BOT-01": 1,
        "RANG-01": 2,
        "NHAN-01": 3,
    }
    assert {(e["input_batch_id"], e["output_batch_id"]) for e in body["edges"]} == {
        (coffee_chain["beans"].id, coffee_chain["roasted"].id),
        (coffee_chain["roasted"].id, coffee_chain["ground"].id),
        (coffee_chain["ground"].id, coffee_chain["shipment"].id),
    }
    assert (
        api.get(
            f"/batches/{coffee_chain['shipment'].id}/trace?direction=sideways", coffee_chain["own"].staff
        ).status_code
        == 422
    )


def test_recall_reaches_three_steps_downstream_at_once(coffee_chain, client, db):
    recall = recall_batch(
        coffee_chain["beans"], "Aflatoxin above QCVN 8-1:2011/BYT", actor=coffee_chain["actor"]
    )
    db.session.commit()
    for key in ("beans", "roasted", "ground", "shipment"):
        batch = db.session.get(Batch, coffee_chain[key].id)
        assert batch.status == "recalled", key
        assert recalls_affecting(batch) == [recall]
    assert [entry.depth for entry in recall.affected] == [0, 1, 2, 3]
    page = client.get(f"/t/{coffee_chain['shipment'].public_code}").get_data(as_text=True)
    assert "thu hồi" in page.lower()


def test_a_recalled_batch_cannot_be_used_as_input(coffee_chain, make):
    recall_batch(coffee_chain["ground"], "Bao bì lỗi", actor=coffee_chain["actor"])
    later = make.batch(coffee_chain["own"].product, lot_code="LATER")
    with pytest.raises(InvalidInput):
        add_inputs(
            later,
            [{"batch_id": coffee_chain["ground"].id, "quantity": Decimal("1")}],
            kind="transformation",
            actor=coffee_chain["actor"],
        )


def test_recall_needs_a_reason_and_only_one_open(coffee_chain):
    with pytest.raises(InvalidInput):
        recall_batch(coffee_chain["beans"], "  ", actor=coffee_chain["actor"])
    recall_batch(coffee_chain["beans"], "Lý do", actor=coffee_chain["actor"])
    with pytest.raises(Conflict):
        recall_batch(coffee_chain["beans"], "Lần nữa", actor=coffee_chain["actor"])


def test_only_the_centre_closes_a_recall(coffee_chain, tenants):
    recall = recall_batch(coffee_chain["beans"], "Lý do", actor=coffee_chain["actor"])
    with pytest.raises(Forbidden):
        close_recall(recall, "", "withdrawn", actor=coffee_chain["actor"])
    with pytest.raises(Forbidden):
        close_recall(recall, "", "withdrawn", actor=tenants["nghean"].staff)
    close_recall(recall, "Đã thu hồi đủ 780 kg", "withdrawn", actor=tenants["daklak"].staff)
    assert recall.status == "closed"
    with pytest.raises(Conflict):
        close_recall(recall, "", "withdrawn", actor=tenants["daklak"].staff)


def test_recall_through_the_api(api, coffee_chain, tenants, db):
    own = coffee_chain["own"]
    response = api.post(
        f"/batches/{coffee_chain['roasted'].id}/recall", own.producer_user, json={"reason": "Mốc"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body["affected_batch_ids"]) == {
        coffee_chain["roasted"].id,
        coffee_chain["ground"].id,
        coffee_chain["shipment"].id,
    }
    assert (
        api.post(
            f"/batches/{coffee_chain['roasted'].id}/recall", tenants["nghean"].staff, json={"reason": "x"}
        ).status_code
        == 404
    )
    refused = api.post(f"/recalls/{body['id']}/close", own.producer_user, json={"outcome": "withdrawn"})
    assert refused.status_code == 403
    closed = api.post(
        f"/recalls/{body['id']}/close", own.staff, json={"note": "Xong", "outcome": "withdrawn"}
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert db.session.scalar(select(db.func.count(BatchInput.id))) == 3
