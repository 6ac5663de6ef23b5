"""The notifications API: a token's user reads and marks only their own, and chooses what is emailed,
through the same services as the pages (what the API changes, the pages show)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from tests.notifications.test_pages import decisions, nav_count
from traceability.models.accounts import User
from traceability.models.notifications import Notification, NotificationPreference

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def unread_of(db, user) -> int:
    db.session.expire_all()
    return len(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        ).all()
    )


def test_the_list_is_the_callers_own_newest_first_paged_and_filtered(db, api, people, make):
    decisions(db, people, make)
    response = api.get("/notifications?per_page=2", people.owner, headers=EN)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 3)
    assert [item["subject"] for item in body["items"]] == [
        "Your producer is suspended: HTX Cà phê Ea Tu",
        "Certificate rejected: VietGAP no. VG-0042",
    ]
    assert body["items"][1]["paragraphs"][-1] == "Reason given: Bản chụp không đọc được."
    assert body["items"][1]["link"].startswith("/manage/certifications/")
    assert all(item["read"] is False and item["read_at"] is None for item in body["items"])
    second = api.get("/notifications?per_page=2&page=2", people.owner, headers=EN).get_json()
    assert [item["subject"] for item in second["items"]] == [
        "Your registration is approved: HTX Cà phê Ea Tu"
    ]

    # In Vietnamese by default.
    vietnamese = api.get("/notifications", people.owner, headers={"Accept-Language": "vi"}).get_json()
    assert vietnamese["items"][2]["subject"] != second["items"][0]["subject"]

    # Marking one read: the list, the unread filter and the website's count all follow.
    newest = body["items"][0]
    response = api.post(f"/notifications/{newest['id']}/read", people.owner, headers=EN)
    assert response.status_code == 200
    assert response.get_json()["read"] is True and response.get_json()["read_at"]
    unread = api.get("/notifications?unread=true", people.owner).get_json()
    assert unread["total"] == 2 and newest["id"] not in [item["id"] for item in unread["items"]]
    assert api.get("/notifications", people.owner).get_json()["total"] == 3

    # Centre staff see none of the producer's notifications, and no other user's list changed.
    assert api.get("/notifications", people.staff).get_json()["total"] == 0
    assert unread_of(db, people.member) == 3


def test_another_users_notification_answers_404_and_stays_unread(db, api, people, make):
    decisions(db, people, make)
    theirs = db.session.scalars(select(Notification).where(Notification.user_id == people.member.id)).all()
    for notification in theirs:
        response = api.post(f"/notifications/{notification.id}/read", people.owner, headers=EN)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"]
    assert api.post("/notifications/999999/read", people.owner).status_code == 404
    assert unread_of(db, people.member) == 3
    assert unread_of(db, people.owner) == 3


def test_read_all_marks_only_the_callers_and_its_replay_answers_the_first_answer(db, api, people, make, web):
    decisions(db, people, make)
    key = str(uuid.uuid4())
    first = api.post("/notifications/read-all", people.owner, headers={"Idempotency-Key": key})
    assert first.status_code == 200
    assert first.get_json() == {"marked_read": 3, "unread": 0}
    assert unread_of(db, people.owner) == 0
    again = api.post("/notifications/read-all", people.owner, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    # Without the key it runs again: nothing was left to mark.
    assert api.post("/notifications/read-all", people.owner).get_json() == {"marked_read": 0, "unread": 0}
    assert unread_of(db, people.member) == 3  # reading is per user
    web.login(people.owner.email)
    assert nav_count(web.client.get("/manage/notifications/").get_data(as_text=True)) is None


def test_settings_read_and_saved_as_the_settings_page_keeps_them(db, api, people, web):
    response = api.get("/notification-settings", people.staff, headers=EN)
    assert response.status_code == 200
    body = response.get_json()
    assert body["locale"] == "vi" and body["mail_enabled"] is False
    assert [(kind["kind"], kind["email"]) for kind in body["kinds"]] == [
        ("producer_signed_up", True),
        ("problem_report", True),
    ]
    assert body["kinds"][0]["label"] == "A producer of my centre's province signs up"

    key = str(uuid.uuid4())
    choice = {"emailed": ["producer_signed_up"], "locale": "en"}
    response = api.request(
        "PUT", "/notification-settings", people.staff, json=choice, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 200
    assert [(kind["kind"], kind["email"]) for kind in response.get_json()["kinds"]] == [
        ("producer_signed_up", True),
        ("problem_report", False),
    ]
    assert response.get_json()["locale"] == "en"
    replay = api.request(
        "PUT", "/notification-settings", people.staff, json=choice, headers={"Idempotency-Key": key}
    )
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == response.get_json()

    # The website shows the same choice.
    web.login(people.staff.email)
    page = web.client.get("/manage/notifications/settings").get_data(as_text=True)
    assert re.search(r'value="producer_signed_up"[^>]*checked|checked[^>]*value="producer_signed_up"', page)
    assert not re.search(r'value="problem_report"[^>]*checked|checked[^>]*value="problem_report"', page)
    # Leaving out the language keeps it.
    response = api.request("PUT", "/notification-settings", people.staff, json={"emailed": []})
    assert response.status_code == 200 and response.get_json()["locale"] == "en"
    assert not any(kind["email"] for kind in response.get_json()["kinds"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"emailed": ["recall"]}, "emailed"),  # a producer's kind, not centre staff's
        ({"emailed": ["spam"]}, "emailed"),
        ({"emailed": "producer_signed_up"}, "emailed"),
        ({"locale": "en"}, "emailed"),
        ({"emailed": [], "locale": "fr"}, "locale"),
        ({"emailed": ["producer_signed_up"] * 50}, "emailed"),
    ],
)
def test_settings_refused_say_which_field_and_change_nothing(db, api, people, body, field):
    response = api.request("PUT", "/notification-settings", people.staff, json=body, headers=EN)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["fields"], error
    db.session.expire_all()
    assert db.session.get(User, people.staff.id).locale is None
    assert not db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == people.staff.id)
    ).all()


def test_a_role_without_notifications_may_only_choose_none(db, api, people):
    assert api.get("/notification-settings", people.auditor).get_json()["kinds"] == []
    response = api.request(
        "PUT", "/notification-settings", people.auditor, json={"emailed": [], "locale": "en"}
    )
    assert response.status_code == 200 and response.get_json()["locale"] == "en"


def test_the_notification_operations_are_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/notifications"]) == {"get"}
    unread = [p for p in paths["/notifications"]["get"]["parameters"] if p.get("name") == "unread"]
    assert unread and unread[0]["schema"]["type"] == "boolean"
    assert set(paths["/notification-settings"]) == {"get", "put"}
    for path, method in (
        ("/notifications/{notification_id}/read", "post"),
        ("/notifications/read-all", "post"),
        ("/notification-settings", "put"),
    ):
        names = [p.get("$ref", "") for p in paths[path][method].get("parameters", [])]
        assert "#/components/parameters/IdempotencyKey" in names, path
    assert "404" in paths["/notifications/{notification_id}/read"]["post"]["responses"]
