"""Each event that concerns someone reaches them through a real SMTP server: who, what, in which language, which page.

The services are called as the web pages and the API call them, the request
boundary's commit is the test's ``commit()``, and the worker's jobs run with
``jobs.run_pending()``. Emails in English are checked word for word; emails
in Vietnamese (the default) by their ``Content-Language`` and by the status
words the Vietnamese catalog has ("Đã phê duyệt", "Đã từ chối"...).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.notifications.helpers import BASE, nobody_else, only_one, settle
from traceability.batches.recalls import recall_batch
from traceability.core.dates import vietnam_today
from traceability.jobs import job_queue
from traceability.models.batches import BatchInput
from traceability.models.notifications import Notification
from traceability.models.public import ProblemReport
from traceability.notifications.events import contact_email, notify_report_reply
from traceability.notifications.expiry import notify_expiring
from traceability.public.problem_reports import submit_report
from traceability.registry.certifications import reject_certification, verify_certification
from traceability.registry.producers import (
    approve_producer,
    reinstate_producer,
    reject_producer,
    sign_up_producer,
    suspend_producer,
)
from traceability.registry.product_claims import reject_claim, verify_claim

# ---------------------------------------------------------------- producers


def test_a_sign_up_reaches_the_staff_of_its_centre_only(db, jobs, inbox, people):
    result = sign_up_producer(
        {
            "name": "HTX Sầu riêng Krông Pắc",
            "kind": "cooperative",
            "tax_code": "6000999001",
            "province_code": "66",
            "ward": "Xã Ea Phê",
            "phone": "0262 3812 999",
            "user_email": "mai@saurieng.vn",
            "user_password": "sau-rieng-krong-pac-2026",
            "user_name": "Lê Thị Mai",
        }
    )
    assert result is not None
    producer, _user = result
    settle(db, jobs)

    english = only_one(inbox, "giam.doc@ttkhcn.daklak.vn")
    assert english.subject == "New producer sign-up: HTX Sầu riêng Krông Pắc"
    assert "HTX Sầu riêng Krông Pắc (Đắk Lắk) signed up and waits for your centre's decision." in english.body
    assert f"{BASE}/manage/producers/{producer.id}" in english.body
    assert english.language == "en"
    assert str(english.message["From"]) == "Truy xuất nguồn gốc <noreply@trace.example.vn>"
    assert english.message["Message-ID"].endswith("@trace.example.vn>")
    vietnamese = only_one(inbox, "can.bo@ttkhcn.daklak.vn")
    assert vietnamese.language == "vi"
    assert "HTX Sầu riêng Krông Pắc" in vietnamese.subject
    assert f"{BASE}/manage/producers/{producer.id}" in vietnamese.body
    # Auditors only read; another province's centre, the producers and the new user hear nothing.
    nobody_else(inbox, "giam.doc@ttkhcn.daklak.vn", "can.bo@ttkhcn.daklak.vn")


def test_each_decision_on_a_producer_reaches_its_users_in_their_language(db, jobs, inbox, people):
    producer = people.producer
    producer.status = "pending"
    link = f"{BASE}/manage/producers/{producer.id}"

    reject_producer(producer, "Thiếu giấy chứng nhận đăng ký HTX.", actor=people.staff)
    settle(db, jobs)
    english = only_one(inbox, "hoa@htxeatu.vn")
    assert english.subject == "Your registration was not approved: HTX Cà phê Ea Tu"
    assert "Status: Rejected" in english.body
    assert "Reason given: Thiếu giấy chứng nhận đăng ký HTX." in english.body
    assert link in english.body
    vietnamese = only_one(inbox, "lan@htxeatu.vn")
    assert vietnamese.language == "vi"
    assert "Đã từ chối" in vietnamese.body
    assert "Thiếu giấy chứng nhận đăng ký HTX." in vietnamese.body
    assert link in vietnamese.body
    # The decider is not told of their own act; the neighbour producer hears nothing.
    nobody_else(inbox, "hoa@htxeatu.vn", "lan@htxeatu.vn")

    for decide, subject, status, vietnamese_status in (
        (approve_producer, "Your registration is approved: HTX Cà phê Ea Tu", "Approved", "Đã phê duyệt"),
        (
            lambda p, actor: suspend_producer(p, "Nhãn sai hạn sử dụng.", actor=actor),
            "Your producer is suspended: HTX Cà phê Ea Tu",
            "Suspended",
            "Tạm đình chỉ",
        ),
        (reinstate_producer, "The suspension is lifted: HTX Cà phê Ea Tu", "Approved", "Đã phê duyệt"),
    ):
        inbox.clear()
        decide(producer, actor=people.admin)
        settle(db, jobs)
        english = only_one(inbox, "hoa@htxeatu.vn")
        assert english.subject == subject
        assert f"Status: {status}" in english.body
        assert vietnamese_status in only_one(inbox, "lan@htxeatu.vn").body


# ---------------------------------------------------------------- certificates and claims


def test_certificate_decisions_reach_the_producers_users(db, jobs, inbox, people, make):
    verified = make.certification(
        people.producer, status="pending", number="VG-0042", document_filename="vg-0042.pdf"
    )
    rejected = make.certification(
        people.producer, status="pending", type="haccp", number="HACCP-7", document_filename="haccp-7.pdf"
    )
    db.session.commit()

    verify_certification(verified, actor=people.staff)
    settle(db, jobs)
    english = only_one(inbox, "hoa@htxeatu.vn")
    assert english.subject == "Certificate verified: VietGAP no. VG-0042"
    assert "The centre verified VietGAP no. VG-0042 of HTX Cà phê Ea Tu" in english.body
    assert f"{BASE}/manage/certifications/{verified.id}" in english.body
    assert "Đã xác minh" in only_one(inbox, "lan@htxeatu.vn").body
    nobody_else(inbox, "hoa@htxeatu.vn", "lan@htxeatu.vn")

    inbox.clear()
    reject_certification(rejected, "Bản chụp không đọc được.", actor=people.staff)
    settle(db, jobs)
    english = only_one(inbox, "hoa@htxeatu.vn")
    assert english.subject == "Certificate rejected: HACCP no. HACCP-7"
    assert "Reason given: Bản chụp không đọc được." in english.body
    assert f"{BASE}/manage/certifications/{rejected.id}" in english.body
    vietnamese = only_one(inbox, "lan@htxeatu.vn")
    assert "Đã từ chối" in vietnamese.body
    assert vietnamese.language == "vi"


def test_ocop_and_flagship_decisions_reach_the_producers_users(db, jobs, inbox, people, make):
    coffee = make.product(people.producer, name="Cà phê Robusta Ea Tu")
    pepper = make.product(people.producer, name="Hồ tiêu Ea Tu")
    make.certification(
        coffee,
        type="ocop",
        status="pending",
        number="OCOP-DL-118",
        claim_ocop_group="food",
        claim_ocop_stars=4,
        valid_from=date(2026, 3, 1),
        valid_to=date(2029, 3, 1),
        document_filename="ocop-118.pdf",
    )
    make.certification(pepper, type="flagship", status="pending", number="", valid_from=None, valid_to=None)
    db.session.commit()

    verify_claim(coffee, "ocop", actor=people.staff)
    settle(db, jobs)
    english = only_one(inbox, "hoa@htxeatu.vn")
    assert english.subject == "Verified: OCOP rating (4 stars) of Cà phê Robusta Ea Tu"
    assert f"{BASE}/manage/products/{coffee.id}" in english.body
    assert "Đã xác minh" in only_one(inbox, "lan@htxeatu.vn").body

    inbox.clear()
    reject_claim(pepper, "flagship", "Không có trong danh mục của tỉnh.", actor=people.staff)
    settle(db, jobs)
    english = only_one(inbox, "hoa@htxeatu.vn")
    assert english.subject == "Rejected: Flagship designation of Hồ tiêu Ea Tu"
    assert "Reason given: Không có trong danh mục của tỉnh." in english.body
    assert f"{BASE}/manage/products/{pepper.id}" in english.body
    nobody_else(inbox, "hoa@htxeatu.vn", "lan@htxeatu.vn")


def test_certificates_and_ocop_ratings_ending_within_30_days_are_announced_once(
    app, db, jobs, inbox, people, make
):
    today = vietnam_today()
    soon = make.certification(people.producer, number="VG-SOON", valid_to=today + timedelta(days=12))
    make.certification(
        people.producer, type="haccp", number="HACCP-LATER", valid_to=today + timedelta(days=45)
    )
    make.certification(
        people.producer,
        type="iso22000",
        number="ISO-PENDING",
        status="pending",
        valid_to=today + timedelta(days=5),
    )
    # Renewed: a newer verified certificate of the same kind outlasts it.
    make.certification(people.neighbour, number="VG-OLD", valid_to=today + timedelta(days=3))
    make.certification(people.neighbour, number="VG-NEW", valid_to=today + timedelta(days=700))
    product = make.product(people.producer, name="Cà phê Robusta Ea Tu")
    rating = make.certification(
        product,
        type="ocop",
        number="OCOP-DL-007",
        claim_ocop_group="food",
        claim_ocop_stars=3,
        valid_to=today + timedelta(days=30),
    )
    db.session.commit()

    # As the worker runs it each morning: the job writes, its commit queues the emails.
    job_queue(app).enqueue("notifications.expiring")
    jobs.run_pending()

    day = (today + timedelta(days=12)).strftime("%d/%m/%Y")
    english = inbox.to("hoa@htxeatu.vn")
    assert sorted(message.subject for message in english) == sorted(
        [
            f"Expires on {day}: VietGAP no. VG-SOON",
            f"Expires on {(today + timedelta(days=30)).strftime('%d/%m/%Y')}: "
            "OCOP rating (3 stars) of Cà phê Robusta Ea Tu",
        ]
    )
    soon_mail = next(message for message in english if "VG-SOON" in message.subject)
    assert f"{BASE}/manage/certifications/{soon.id}" in soon_mail.body
    assert f"{BASE}/manage/certifications/{rating.id}" in next(
        message.body for message in english if "OCOP" in message.subject
    )
    assert len(inbox.to("lan@htxeatu.vn")) == 2
    assert all(message.language == "vi" for message in inbox.to("lan@htxeatu.vn"))
    nobody_else(inbox, "hoa@htxeatu.vn", "hoa@htxeatu.vn", "lan@htxeatu.vn", "lan@htxeatu.vn")

    # The next mornings: nothing new to say.
    inbox.clear()
    assert notify_expiring(today + timedelta(days=1)) == 0
    jobs.run_pending()
    assert inbox.received == []

    # Its end date moved (a corrected certificate), still within 30 days: announced for the new date.
    soon.valid_to = today + timedelta(days=20)
    db.session.commit()
    assert notify_expiring() == 2
    jobs.run_pending()
    assert [m.subject for m in inbox.to("hoa@htxeatu.vn")] == [
        f"Expires on {(today + timedelta(days=20)).strftime('%d/%m/%Y')}: VietGAP no. VG-SOON"
    ]


# ---------------------------------------------------------------- recalls


def test_a_recall_reaches_each_producer_about_its_own_lots_only(db, jobs, inbox, people, make):
    roastery = make.producer(people.far_centre, name="Công ty Rang xay Vinh")
    roaster = make.user("producer", producer=roastery, email="rang@vinh.vn", locale="en")
    beans = make.batch(make.product(people.producer, name="Cà phê nhân Ea Tu"), lot_code="NHAN-2611")
    other_beans = make.batch(make.product(people.producer, name="Cà phê nhân Ea Tu 2"), lot_code="NHAN-2612")
    roasted = make.batch(make.product(roastery, name="Cà phê rang Vinh"), lot_code="RANG-0001")
    db.session.add(BatchInput(output_batch_id=roasted.id, input_batch_id=beans.id, quantity=Decimal("100")))
    db.session.add(
        BatchInput(output_batch_id=roasted.id, input_batch_id=other_beans.id, quantity=Decimal("50"))
    )
    unrelated = make.batch(make.product(people.neighbour), lot_code="TIEU-01")
    db.session.commit()

    recall_batch(beans, "Phát hiện nấm mốc Aspergillus.", actor=people.staff)
    settle(db, jobs)

    own = only_one(inbox, "hoa@htxeatu.vn")
    assert own.subject == "Recall: 1 of your lots"
    assert "Lot NHAN-2611 of Cà phê nhân Ea Tu" in own.body
    assert "Reason given: Phát hiện nấm mốc Aspergillus." in own.body
    assert f"{BASE}/manage/batches/{beans.id}" in own.body
    assert "RANG-0001" not in own.body  # another producer's lot
    assert only_one(inbox, "lan@htxeatu.vn").language == "vi"

    downstream = only_one(inbox, "rang@vinh.vn")
    assert downstream.subject == "Recall: 1 of your lots"
    assert "Lot RANG-0001 of Cà phê rang Vinh, made from a recalled input" in downstream.body
    assert f"{BASE}/manage/batches/{roasted.id}" in downstream.body
    assert "NHAN-2611" not in downstream.body and "NHAN-2612" not in downstream.body
    assert unrelated.status == "active"
    nobody_else(inbox, "hoa@htxeatu.vn", "lan@htxeatu.vn", "rang@vinh.vn")
    assert roaster.active


# ---------------------------------------------------------------- consumers' problem reports


def test_a_problem_report_reaches_the_producer_and_its_centre(db, jobs, inbox, people, make):
    batch = make.batch(make.product(people.producer, name="Cà phê Robusta Ea Tu"), lot_code="RB-2610")
    db.session.commit()

    submit_report(batch, None, "Bao bì bị rách, hạt cà phê bị ẩm.", "0905 123 456", address="203.0.113.7")
    settle(db, jobs)

    english = only_one(inbox, "hoa@htxeatu.vn")
    assert english.subject == "Problem reported: Cà phê Robusta Ea Tu, lot RB-2610"
    assert "“Bao bì bị rách, hạt cà phê bị ẩm.”" in english.body
    assert f"{BASE}/manage/problem-reports?batch_id={batch.id}" in english.body
    assert "0905 123 456" not in english.body  # the consumer's contact stays on the report
    for address in ("lan@htxeatu.vn", "can.bo@ttkhcn.daklak.vn", "giam.doc@ttkhcn.daklak.vn"):
        assert "RB-2610" in only_one(inbox, address).subject
    nobody_else(
        inbox, "hoa@htxeatu.vn", "lan@htxeatu.vn", "can.bo@ttkhcn.daklak.vn", "giam.doc@ttkhcn.daklak.vn"
    )


def test_the_answer_to_a_report_reaches_the_email_the_consumer_left(db, jobs, inbox, people, make):
    batch = make.batch(make.product(people.producer, name="Cà phê Robusta Ea Tu"), lot_code="RB-2611")
    report = ProblemReport(
        batch_id=batch.id, message="Hạt bị mốc.", contact="Chị Lan, 0905 111 222, lan.nguyen@example.vn"
    )
    phone_only = ProblemReport(batch_id=batch.id, message="Thiếu tem.", contact="0905 333 444")
    db.session.add_all([report, phone_only])
    db.session.commit()

    notification = notify_report_reply(report, "Chúng tôi đã thu hồi lô này và sẽ hoàn tiền cho chị.")
    assert notify_report_reply(phone_only, "Cảm ơn anh.") is None  # no address to answer to
    settle(db, jobs)

    answer = only_one(inbox, "lan.nguyen@example.vn")
    assert answer.language == "vi"
    assert "Chúng tôi đã thu hồi lô này và sẽ hoàn tiền cho chị." in answer.body
    assert f"{BASE}/t/{batch.public_code}" in answer.body
    assert "Cà phê Robusta Ea Tu" in answer.subject and report.reference in answer.subject
    assert report.reference in answer.body
    nobody_else(inbox, "lan.nguyen@example.vn")
    assert notification is not None and notification.user_id is None  # in nobody's in-app list

    inbox.clear()
    notify_report_reply(report, "We recalled this lot.", locale="en", link="/report/status/ABC123")
    settle(db, jobs)
    english = only_one(inbox, "lan.nguyen@example.vn")
    assert english.subject == f"Answer to your report {report.reference} on Cà phê Robusta Ea Tu"
    assert f"Your report's reference: {report.reference}." in english.body
    assert "you reported a problem with lot RB-2611 of Cà phê Robusta Ea Tu. The answer:" in english.body
    assert f"{BASE}/report/status/ABC123" in english.body


def test_a_contact_gives_its_email_address_when_it_has_one():
    assert contact_email("Chị Lan <Lan.Nguyen@Example.VN>") == "Lan.Nguyen@example.vn"
    assert contact_email("0905 111 222") is None
    assert contact_email("mail: a@b") is None
    assert contact_email("") is None


def test_without_a_mail_server_notifications_stay_in_app(db, jobs, people):
    people.producer.status = "pending"
    approve_producer(people.producer, actor=people.staff)
    db.session.commit()

    rows = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert {row.user_id for row in rows} == {people.owner.id, people.member.id}
    assert {row.email_status for row in rows} == {"none"}
    assert jobs.waiting("notifications.deliver") == []
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
