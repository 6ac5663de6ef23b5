"""A consumer's report is answered: its reference, its status page, the replies, and the email of each reply."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tests.notifications import conftest as mail_fixtures
from tests.notifications.helpers import BASE, nobody_else, only_one
from tests.public.honey import PRODUCT_NAME, honey_lot
from traceability.models.public import REFERENCE_ALPHABET, ProblemReport, ProblemReportReply

# The real SMTP server of the notification tests, and the app sending to it.
smtp, inbox = mail_fixtures.smtp, mail_fixtures.inbox

REFERENCE = re.compile(rf"PR-\d{{4}}-[{REFERENCE_ALPHABET}]{{4}}")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def tr(language: str, message: str, **values) -> str:
    with force_locale(language):
        return html.escape(gettext(message, **values))


@pytest.fixture
def honey(make, db, monkeypatch, app):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    lot = honey_lot(make, db)
    lot.staff = make.user("centre_staff", centre=lot.centre)
    other = make.producer(lot.centre, name="HTX Cà phê Ea Tu")
    lot.other_user = make.user("producer", producer=other)
    db.session.commit()
    return lot


def send_report(app, code: str, message: str, contact: str = "", language: str = "vi"):
    """The consumer's phone: the form, then the report; answers the page the consumer lands on."""
    consumer = app.test_client()
    headers = {"Accept-Language": language}
    form = consumer.get(f"/report/{code}", headers=headers).get_data(as_text=True)
    sent = consumer.post(
        f"/report/{code}",
        data={"message": message, "contact": contact, "csrf_token": CSRF.search(form).group(1)},
        headers=headers,
    )
    assert sent.status_code == 302, sent.status_code
    return consumer, sent.headers["Location"], consumer.get(sent.headers["Location"], headers=headers)


def reply(web, report, body: str):
    return web.post_form(
        f"/manage/problem-reports/{report.id}/reply",
        {"body": body, "next": "/manage/problem-reports"},
        form_url="/manage/problem-reports",
    )


def the_report(db) -> ProblemReport:
    db.session.expire_all()
    return db.session.scalars(select(ProblemReport)).one()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_consumer_reads_the_producers_answer_on_the_status_page_and_by_email(
    app,
    db,
    web,
    jobs,
    inbox,
    honey,
    language,
):
    consumer, location, landing = send_report(
        app,
        honey.item.public_code,
        "Nắp hũ bị bóc sẵn.",
        "Chị Lan, 0905 111 222, lan.nguyen@example.vn",
        language,
    )
    report = the_report(db)
    jobs.run_pending()
    inbox.clear()  # the producer's and the centre's notices of the report
    assert location == f"/report/status/{report.status_token}"
    page = landing.get_data(as_text=True)
    assert REFERENCE.fullmatch(report.reference) and report.reference in page
    assert tr(language, "Received, waiting for an answer") in page
    # The page shows neither the consumer's message nor their contact.
    assert "0905 111 222" not in page and "lan.nguyen" not in page and "Nắp hũ bị bóc" not in page
    assert landing.headers["Cache-Control"] == "private, no-store"
    assert landing.headers["Referrer-Policy"] == "no-referrer"
    assert report.language == language

    web.login(honey.user.email)
    listing = web.client.get("/manage/problem-reports").get_data(as_text=True)
    assert report.reference in listing and f"/manage/problem-reports/{report.id}/reply" in listing
    answer = "Chúng tôi đã thu hồi hũ này và sẽ đổi hũ mới cho chị."
    assert reply(web, report, answer).status_code == 302
    jobs.run_pending()

    page = consumer.get(location, headers={"Accept-Language": language}).get_data(as_text=True)
    assert html.escape(answer) in page
    assert tr(language, "The producer") in page and tr(language, "Answered, still open") in page
    email = only_one(inbox, "lan.nguyen@example.vn")
    assert email.language == language and answer in email.body
    assert f"{BASE}/report/status/{report.status_token}" in email.body
    assert PRODUCT_NAME in email.subject
    # The reference the consumer reads out over the phone, in the subject and the body, beside the link.
    assert report.reference in email.subject and report.reference in email.body
    nobody_else(inbox, "lan.nguyen@example.vn")


def test_the_centre_answers_then_closes_and_the_page_says_so(app, db, web, jobs, inbox, honey):
    consumer, location, _ = send_report(app, honey.batch.public_code, "Mật bị lên men.", "0905 333 444")
    report = the_report(db)
    jobs.run_pending()
    inbox.clear()
    web.login(honey.staff.email)
    assert reply(web, report, "Trung tâm đã lấy mẫu kiểm tra.").status_code == 302
    closed = web.post_form(
        f"/manage/problem-reports/{report.id}/close", {"note": "Đã xử lý"}, form_url="/manage/problem-reports"
    )
    assert closed.status_code == 302
    jobs.run_pending()
    assert inbox.received == []  # a phone number only: nothing to email
    page = consumer.get(location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The provincial centre" in page and html.escape("Trung tâm đã lấy mẫu kiểm tra.") in page
    assert "Dealt with (closed on" in page and "Đã xử lý" not in page  # the closing note is the centre's own

    # A closed report takes no more answers; the refusal says why.
    refused = reply(web, report, "Thêm một câu trả lời.")
    assert refused.status_code == 302
    shown = web.client.get(refused.headers["Location"])
    # Said in the language of the request that was refused (Vietnamese, the default).
    assert "Phản ánh này đã đóng: không nhận thêm câu trả lời." in shown.get_data(as_text=True)
    assert db.session.scalars(select(ProblemReportReply.body)).all() == ["Trung tâm đã lấy mẫu kiểm tra."]


def test_an_empty_answer_is_refused_and_another_producer_cannot_answer(app, db, web, honey):
    send_report(app, honey.batch.public_code, "Nhãn bị mờ.")
    report = the_report(db)
    web.login(honey.user.email)
    refused = reply(web, report, "   ")
    shown = web.client.get(refused.headers["Location"])
    assert "Chưa gửi được câu trả lời: hãy viết câu trả lời trước." in shown.get_data(as_text=True)
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage/problem-reports")})
    web.login(honey.other_user.email)
    assert reply(web, report, "Không phải của chúng tôi.").status_code == 404
    assert db.session.scalars(select(ProblemReportReply)).all() == []


def test_only_the_reports_own_token_opens_its_page(app, db, honey):
    _, first, _ = send_report(app, honey.batch.public_code, "Hũ thứ nhất bị nứt.")
    _, second, _ = send_report(app, honey.item.public_code, "Hũ thứ hai bị phồng.")
    reports = db.session.scalars(select(ProblemReport).order_by(ProblemReport.id)).all()
    assert first != second and len({r.reference for r in reports}) == 2
    stranger = app.test_client()
    own = stranger.get(first).get_data(as_text=True)
    assert reports[0].reference in own and reports[1].reference not in own
    for guess in (
        f"/report/status/{reports[0].reference}",  # the reference read out over the phone opens nothing
        f"/report/status/{'0' * 32}",
        f"/report/status/{reports[0].status_token[:-1]}",
        "/report/status/",
    ):
        assert stranger.get(guess).status_code == 404, guess
