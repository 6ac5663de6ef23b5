"""Farms, facilities and warehouses: trace codes, GLN check digits, coordinates, tenancy."""

import pytest
from sqlalchemy import select

from traceability.core.errors import Forbidden, InvalidInput
from traceability.models.audit import AuditEntry
from traceability.models.registry import Location
from traceability.registry.locations import create_location, update_location

VALID_GLN = "8935000000014"  # 13 digits with a correct check digit
OTHER_VALID_GLN = "8935000000021"


@pytest.fixture
def english(client):
    """Pages and API messages in English, so the tests read what a user reads."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _patch(api, path, user, **kwargs):
    return api.request("PATCH", path, user, **kwargs)


def _location(db, name):
    return db.session.scalars(select(Location).where(Location.name == name)).first()


def test_web_adds_a_farm_with_a_gln_and_lists_it_with_its_trace_code(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    form = web.client.get("/manage/locations/new").get_data(as_text=True)
    assert '<option selected value="66">' in form  # the producer's province
    response = web.post_form(
        "/manage/locations/new",
        {
            "name": "Vườn cà phê Ea Tu",
            "kind": "farm",
            "province_code": "66",
            "ward": "Xã Ea Tu",
            "street": "Thôn 4",
            "gln": VALID_GLN,
            "latitude": "12.6675",
            "longitude": "108.0378",
        },
    )
    assert response.status_code == 302
    location = _location(db, "Vườn cà phê Ea Tu")
    assert location.producer_id == own.producer.id and location.trace_code == VALID_GLN
    assert (location.latitude, location.longitude) == (12.6675, 108.0378)
    page = web.client.get("/manage/locations").get_data(as_text=True)
    assert "Vườn cà phê Ea Tu" in page and VALID_GLN in page and "Thôn 4, Xã Ea Tu, Đắk Lắk" in page


def test_a_location_without_gln_is_traced_by_its_internal_code(api, tenants):
    response = api.post(
        "/locations", tenants["daklak"].producer_user, json={"name": "Kho", "kind": "warehouse"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["gln"] is None and body["trace_code"].startswith("L") and len(body["trace_code"]) == 13
    assert body["province_code"] == "66"  # the producer's, when not given


@pytest.mark.parametrize("gln", ["8935000000019", "893500000001", "abcdefghijklm"])
def test_an_invalid_gln_is_refused_on_the_web_and_the_api(web, api, tenants, db, english, gln):
    own = tenants["daklak"]
    response = api.post(
        "/locations", own.producer_user, json={"name": "Xưởng", "kind": "facility", "gln": gln}
    )
    assert response.status_code == 422 and "gln" in response.get_json()["error"]["fields"]
    web.login(own.producer_user.email)
    page = web.post_form(
        "/manage/locations/new", {"name": "Xưởng", "kind": "facility", "province_code": "66", "gln": gln}
    )
    assert page.status_code == 422
    assert "A GLN has 13 digits and a correct check digit." in page.get_data(as_text=True)
    assert _location(db, "Xưởng") is None


def test_a_gln_belongs_to_one_location(api, tenants):
    first = api.post(
        "/locations", tenants["daklak"].producer_user, json={"name": "A", "kind": "farm", "gln": VALID_GLN}
    )
    assert first.status_code == 201
    second = api.post(
        "/locations", tenants["nghean"].producer_user, json={"name": "B", "kind": "farm", "gln": VALID_GLN}
    )
    assert second.status_code == 409 and "gln" in second.get_json()["error"]["fields"]
    other = api.post(
        "/locations", tenants["daklak"].producer_user, json={"name": "C", "kind": "farm"}
    ).get_json()
    clash = _patch(api, f"/locations/{other['id']}", tenants["daklak"].producer_user, json={"gln": VALID_GLN})
    assert clash.status_code == 409


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("91", "108", "Latitude is a number between -90 and 90."),
        ("-90.5", "108", "Latitude is a number between -90 and 90."),
        ("12", "180.01", "Longitude is a number between -180 and 180."),
        ("12", "", "Give both latitude and longitude, or neither."),
    ],
)
def test_coordinates_out_of_range_or_alone_are_refused_on_the_web(
    web, tenants, db, english, latitude, longitude, message
):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page = web.post_form(
        "/manage/locations/new",
        {
            "name": "Nhà sấy",
            "kind": "facility",
            "province_code": "66",
            "latitude": latitude,
            "longitude": longitude,
        },
    )
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    assert _location(db, "Nhà sấy") is None


def test_coordinates_out_of_range_are_refused_by_the_api_and_the_service(api, tenants):
    own = tenants["daklak"]
    response = api.post(
        "/locations", own.producer_user, json={"name": "X", "kind": "farm", "latitude": 95, "longitude": 10}
    )
    assert response.status_code == 422 and "latitude" in response.get_json()["error"]["fields"]
    with pytest.raises(InvalidInput) as caught:
        create_location(
            {"name": "X", "kind": "farm", "latitude": 10, "longitude": -181}, actor=own.producer_user
        )
    assert set(caught.value.fields) == {"longitude"}
    with pytest.raises(InvalidInput) as caught:
        create_location({"name": "X", "kind": "farm", "latitude": 10}, actor=own.producer_user)
    assert set(caught.value.fields) == {"longitude"}


def test_web_edit_changes_a_location_and_audits_it(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.staff.email)
    url = f"/manage/locations/{own.location.id}/edit"
    assert own.location.name in web.client.get(url).get_data(as_text=True)
    response = web.post_form(
        url,
        {
            "name": "Vườn mới",
            "kind": "farm",
            "province_code": "66",
            "ward": "Xã Hòa Phú",
            "gln": OTHER_VALID_GLN,
        },
    )
    assert response.status_code == 302
    location = db.session.get(Location, own.location.id)
    assert (location.name, location.ward, location.trace_code) == ("Vườn mới", "Xã Hòa Phú", OTHER_VALID_GLN)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert (
        entry.object_type == "Location"
        and entry.before["gln"] is None
        and entry.after["gln"] == OTHER_VALID_GLN
    )


def test_api_patch_changes_only_the_fields_given(api, tenants):
    own = tenants["daklak"]
    created = api.post(
        "/locations",
        own.producer_user,
        json={
            "name": "Kho lạnh",
            "kind": "warehouse",
            "address": "12 Lê Duẩn",
            "latitude": 12.6,
            "longitude": 108.0,
        },
    ).get_json()
    changed = _patch(api, f"/locations/{created['id']}", own.producer_user, json={"name": "Kho lạnh số 1"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["name"] == "Kho lạnh số 1" and body["address"] == "12 Lê Duẩn" and body["latitude"] == 12.6
    cleared = _patch(
        api, f"/locations/{created['id']}", own.producer_user, json={"latitude": None, "longitude": None}
    )
    assert cleared.get_json()["latitude"] is None
    assert api.get(f"/locations/{created['id']}", own.producer_user).get_json()["name"] == "Kho lạnh số 1"


def test_api_lists_the_callers_locations_page_by_page(api, make, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    for _ in range(4):
        make.location(own.producer)
    page = api.get(
        f"/locations?producer_id={own.producer.id}&per_page=2&page=3", own.producer_user
    ).get_json()
    assert page["total"] == 5 and len(page["items"]) == 1
    assert api.get("/locations", own.producer_user).get_json()["total"] == 5
    assert api.get(f"/locations?producer_id={other.producer.id}", own.producer_user).get_json()["total"] == 0
    assert api.get("/locations", tenants["ministry"]).get_json()["total"] == 6


@pytest.mark.parametrize("who", ["producer_user", "staff"])
def test_another_tenants_location_answers_404(web, api, tenants, db, who):
    user = getattr(tenants["daklak"], who)
    location = tenants["nghean"].location
    assert api.get(f"/locations/{location.id}", user).status_code == 404
    assert _patch(api, f"/locations/{location.id}", user, json={"name": "Hijacked"}).status_code == 404
    assert (
        api.post(
            "/locations",
            user,
            json={"producer_id": tenants["nghean"].producer.id, "name": "X", "kind": "farm"},
        ).status_code
        == 403
    )
    web.login(user.email)
    assert web.client.get(f"/manage/locations/{location.id}/edit").status_code == 404
    assert location.name not in web.client.get("/manage/locations").get_data(as_text=True)
    assert db.session.get(Location, location.id).name != "Hijacked"


@pytest.mark.parametrize("role", ["auditor", "ministry"])
def test_auditors_and_the_ministry_read_locations_but_do_not_change_them(web, api, tenants, role):
    user = tenants["ministry"] if role == "ministry" else tenants["daklak"].auditor
    location = tenants["daklak"].location
    assert api.get(f"/locations/{location.id}", user).status_code == 200
    assert _patch(api, f"/locations/{location.id}", user, json={"name": "X"}).status_code == 403
    with pytest.raises(Forbidden):
        update_location(location, {"name": "X"}, actor=user)
    web.login(user.email)
    page = web.client.get("/manage/locations").get_data(as_text=True)
    assert location.name in page and "/manage/locations/new" not in page
    assert web.client.get(f"/manage/locations/{location.id}/edit").status_code == 403
