"""Fixtures of the notification tests: a real SMTP server and the app configured to send through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.smtp_server import Inbox, SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server on a free port, stopped after the test."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def inbox(app, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Inbox:
    """The app sends its emails to ``smtp`` (plain SMTP on loopback); what arrives is in the inbox."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", smtp.host)
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    monkeypatch.setitem(app.config, "MAIL_USE_STARTTLS", False)
    monkeypatch.setitem(app.config, "MAIL_USE_SSL", False)
    monkeypatch.setitem(app.config, "MAIL_FROM", "Truy xuất nguồn gốc <noreply@trace.example.vn>")
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    return smtp.inbox


class People:
    """A centre (Đắk Lắk) and its people, a producer with two users, and their neighbours."""


@pytest.fixture
def people(make, db):
    p = People()
    p.centre = make.centre("66")
    p.staff = make.user("centre_staff", centre=p.centre, email="can.bo@ttkhcn.daklak.vn")
    p.admin = make.user("centre_admin", centre=p.centre, email="giam.doc@ttkhcn.daklak.vn", locale="en")
    p.auditor = make.user("auditor", centre=p.centre, email="kiem.toan@ttkhcn.daklak.vn")
    p.producer = make.producer(p.centre, name="HTX Cà phê Ea Tu")
    # The producer's administrator reads English; its other user keeps the default, Vietnamese.
    p.owner = make.user(
        "producer", producer=p.producer, email="hoa@htxeatu.vn", locale="en", is_producer_admin=True
    )
    p.member = make.user("producer", producer=p.producer, email="lan@htxeatu.vn")
    p.neighbour = make.producer(p.centre, name="HTX Hồ tiêu Cư M'gar")
    p.neighbour_user = make.user("producer", producer=p.neighbour, email="tieu@cumgar.vn")
    p.far_centre = make.centre("40")
    p.far_staff = make.user("centre_staff", centre=p.far_centre, email="can.bo@ttkhcn.nghean.vn")
    db.session.commit()
    return p
