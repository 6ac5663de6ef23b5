"""The in-app list as a user meets it: the unread count in the navigation, opening, marking read, settings."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from traceability.models.accounts import User
from traceability.models.notifications import Notification, NotificationPreference
from traceability.registry.certifications import reject_certification
from traceability.registry.producers import approve_producer, suspend_producer


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so the assertions hold whatever the Vietnamese catalog says."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def nav_count(page: str) -> str | None:
    """The unread count the navigation shows beside "Notifications", if any."""
    match = re.search(
        r'href="/manage/notifications/">Notifications(?: <span class="badge">([^<]+)</span>)?', page
    )
    assert match, "no Notifications link in the navigation"
    return match.group(1)


def decisions(db, people, make) -> None:
    """Three things the producer's users hear about: an approval, a rejected certificate, a suspension."""
    people.producer.status = "pending"
    approve_producer(people.producer, actor=people.staff)
    certificate = make.certification(
        people.producer,
        status="pending",
        number="VG-0042",
        document_filename="vg-0042.pdf",
        document_size=2048,
        document_content_type="application/pdf",
    )
    reject_certification(certificate, "Bản chụp không đọc được.", actor=people.staff)
    suspend_producer(people.producer, "Nhãn thiếu hạn sử dụng.", actor=people.staff)
    db.session.commit()


def test_the_list_the_count_opening_and_marking_read(db, web, people, make):
    decisions(db, people, make)
    web.login(people.owner.email)

    page = web.client.get("/manage/notifications/").get_data(as_text=True)
    assert nav_count(page) == "3"
    subjects = re.findall(r"<strong>([^<]+)</strong>", page)
    assert subjects == [  # newest first, in the page's language
        "Your producer is suspended: HTX Cà phê Ea Tu",
        "Certificate rejected: VietGAP no. VG-0042",
        "Your registration is approved: HTX Cà phê Ea Tu",
    ]
    assert "Reason given: Bản chụp không đọc được." in page

    # Opening one marks it read and leads to its page.
    rejected = db.session.scalar(
        select(Notification).where(
            Notification.user_id == people.owner.id, Notification.kind == "certification_decided"
        )
    )
    response = web.post_form(
        f"/manage/notifications/{rejected.id}/open", {}, form_url="/manage/notifications/"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == rejected.link
    assert rejected.link.startswith("/manage/certifications/")
    assert web.client.get(response.headers["Location"]).status_code == 200
    assert nav_count(web.client.get("/manage/notifications/").get_data(as_text=True)) == "2"

    # Marking one read keeps the user on the list.
    approved = db.session.scalar(
        select(Notification).where(
            Notification.user_id == people.owner.id, Notification.params["decision"].as_string() == "approved"
        )
    )
    response = web.post_form(
        f"/manage/notifications/{approved.id}/read",
        {"next": "/manage/notifications/?page=1"},
        form_url="/manage/notifications/",
    )
    assert response.headers["Location"] == "/manage/notifications/?page=1"
    assert nav_count(web.client.get("/manage/").get_data(as_text=True)) == "1"  # on every page

    response = web.post_form("/manage/notifications/read-all", {}, form_url="/manage/notifications/")
    page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "All notifications are marked read." in page
    assert nav_count(page) is None
    assert "Mark all as read" not in page

    # The other user of the producer still has all three unread: reading is per user.
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage/notifications/")})
    web.login(people.member.email)
    assert nav_count(web.client.get("/manage/notifications/").get_data(as_text=True)) == "3"


def test_a_user_reaches_only_their_own_notifications(db, web, people, make):
    decisions(db, people, make)
    others = db.session.scalars(
        select(Notification).where(Notification.user_id == people.member.id).order_by(Notification.id)
    ).all()
    assert len(others) == 3
    web.login(people.owner.email)
    for action in ("open", "read"):
        response = web.post_form(
            f"/manage/notifications/{others[0].id}/{action}", {}, form_url="/manage/notifications/"
        )
        assert response.status_code == 404
    db.session.expire_all()
    assert all(
        row.read_at is None
        for row in db.session.scalars(select(Notification).where(Notification.user_id == people.member.id))
    )
    web.post_form("/manage/notifications/read-all", {}, form_url="/manage/notifications/")
    db.session.expire_all()
    assert [
        row.read_at
        for row in db.session.scalars(select(Notification).where(Notification.user_id == people.member.id))
    ] == [None, None, None]

    # The centre's staff heard nothing of these; their list is their own.
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage/notifications/")})
    web.login(people.staff.email)
    page = web.client.get("/manage/notifications/").get_data(as_text=True)
    assert "No notifications yet." in page
    assert nav_count(page) is None


def test_signed_out_the_pages_ask_to_sign_in(client):
    for url in ("/manage/notifications/", "/manage/notifications/settings"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_list_is_paged(db, web, people):
    for n in range(45):
        db.session.add(
            Notification(
                user_id=people.owner.id,
                kind="problem_report",
                params={"product": "Cà phê", "lot": f"L{n:02d}", "message": "Bao bì rách."},
                link="/manage/problem-reports",
            )
        )
    db.session.commit()
    web.login(people.owner.email)
    first = web.client.get("/manage/notifications/").get_data(as_text=True)
    assert first.count("<strong>") == 20
    assert "L44" in first and "Page 1 of 3" in first
    assert nav_count(first) == "45"
    last = web.client.get("/manage/notifications/?page=3").get_data(as_text=True)
    assert last.count("<strong>") == 5 and "L00" in last
    for _n in range(60):
        db.session.add(Notification(user_id=people.owner.id, kind="recall", params={}, link=""))
    db.session.commit()
    assert nav_count(web.client.get("/manage/").get_data(as_text=True)) == "99+"


def test_settings_offer_each_role_its_kinds_and_keep_the_choice(db, web, people):
    web.login(people.staff.email)
    page = web.client.get("/manage/notifications/settings").get_data(as_text=True)
    assert "A producer of my centre's province signs up" in page
    assert "A consumer reports a problem with a product" in page
    assert "A recall reaches my lots" not in page  # a producer's kind
    # Nothing emailed but sign-ups, emails in English.
    response = web.post_form(
        "/manage/notifications/settings", {"emailed": ["producer_signed_up"], "locale": "en"}
    )
    assert response.status_code == 302
    choices = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.email).where(
                NotificationPreference.user_id == people.staff.id
            )
        ).all()
    )
    assert choices == {"producer_signed_up": True, "problem_report": False}
    assert db.session.get(User, people.staff.id).locale == "en"
    page = web.client.get("/manage/notifications/settings").get_data(as_text=True)
    assert re.search(r'value="producer_signed_up"[^>]*checked|checked[^>]*value="producer_signed_up"', page)
    assert not re.search(r'value="problem_report"[^>]*checked|checked[^>]*value="problem_report"', page)
    assert "This site sends no emails yet" in page  # the suite runs without a mail server

    # A kind the role cannot receive is refused, and nothing changes.
    response = web.post_form("/manage/notifications/settings", {"emailed": ["recall"], "locale": "vi"})
    assert response.status_code == 422
    assert db.session.get(User, people.staff.id).locale == "en"


def test_the_auditors_page_says_their_role_gets_none(db, web, people):
    web.login(people.auditor.email)
    page = web.client.get("/manage/notifications/settings").get_data(as_text=True)
    assert "Your role receives no notifications." in page
    assert web.post_form("/manage/notifications/settings", {"locale": "en"}).status_code == 302
