"""The authorization matrix: every route of the app, asked by everyone who could ask.

``POLICY`` declares, for every endpoint of ``app.url_map`` and each of its
methods, who may use it: anyone, every signed-in role, or some roles; and
whether the URL (or the body) names a tenant's record, so that other tenants
are refused. A route without a policy fails ``test_every_route_has_a_policy``:
a new route cannot slip through unreviewed.

``test_route_follows_its_policy`` sends, for each endpoint and method, a real
request with real ids of each tenant's records:

- signed out;
- for each role, signed in on the website (web routes) or with an API token
  (API routes), on its own tenant's record, on another province's record, and
  (producers) on another producer's record of the same province;
- for each role, on the other channel: an API token on a web route counts for
  nothing (signed out), nor does a browser session on the API.

Allowed means the request was not refused: any answer but 401, 403, 404 and a
redirect to the login page, and never a 5xx (a 400 or 422 on a minimal body is
fine, unless the rule says the body is valid and every allowed request must
succeed). Refused means a redirect to the login page (web) or 401 (API) when
signed out, and 403 or 404 for a role or tenant that may not. A refused
request must change nothing: the whole database is compared before and after.

Bodies: where the role and tenant checks come before the form is read (a role
decorator, then the record looked up in the tenant scope), an empty form is
enough; where the body names the tenant (creating a batch for a product) or
the check sits in the service behind the form's validation (closing a recall),
the rule sends a valid body. Routes whose allowed request changes or deletes
its record (approving a producer, deleting an image) get a fresh record for
every request. The module shares one database: build it once, ~2,000 requests.
"""

from __future__ import annotations

import hashlib
import io
import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, current_app
from PIL import Image
from sqlalchemy import func, select

from tests import factories
from tests.conftest import CSRF_PATTERN, RequestIsolatedClient, _empty_tables
from tests.inspections.helpers import nonconformity
from traceability.accounts.service import issue_token
from traceability.accounts.throttle import login_throttle
from traceability.batches.epcis_jobs import run_capture_job
from traceability.batches.label_jobs import queue_label_job, run_label_job
from traceability.batches.label_sheets import plan_labels
from traceability.batches.recalls import recall_batch
from traceability.batches.serials import create_serials
from traceability.batches.service import record_event
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db as _db
from traceability.gs1 import gtin_check_digit
from traceability.inspections.checklists import checklist_for
from traceability.inspections.service import answer_inspection, close_inspection, create_inspection
from traceability.jobs import job_queue
from traceability.models.accounts import ROLES, User
from traceability.models.audit import AuditEntry
from traceability.models.epcis import EpcisQueryEvent
from traceability.models.notifications import Notification
from traceability.models.public import ProblemReport, Scan
from traceability.models.registry import Location, Product
from traceability.public.showcase import product_slug
from traceability.registry.certifications import create_certification
from traceability.registry.gtin_disputes import open_dispute
from traceability.registry.product_claims import declare_flagship, declare_ocop
from traceability.registry.product_images import add_product_image
from traceability.reports.centre_work import save_contract

ALL = frozenset(ROLES)
CENTRE = frozenset({"centre_admin", "centre_staff"})
WRITERS = CENTRE | {"producer"}
CENTRE_READERS = CENTRE | {"auditor", "ministry"}
TODAY = vietnam_today()
YEAR = TODAY.year


# ---------------------------------------------------------------- the records of one producer's tenant


class Target:
    """The records of one producer (and its centre) whose ids go into URLs and bodies."""

    def __init__(self, key: str) -> None:
        self.key = key  # "own", "sibling" (same province, another producer) or "other" (another province)
        self.extra: dict[str, Any] = {}


def picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_serial = iter(range(1, 1_000_000))


def _gtin(n: int) -> str:
    body = f"0893{n:09d}"  # 13 digits, then the check digit: a GTIN-14
    return body + str(gtin_check_digit(body))


def build_target(key: str, centre: Any, staff: Any, admin: Any) -> Target:
    """A producer with a product, location, certificate, batch, event, items, label job, recall, inspection."""
    t = Target(key)
    t.centre, t.staff, t.admin = centre, staff, admin
    t.producer = factories.make_producer(centre)
    t.producer_user = factories.make_user("producer", producer=t.producer, is_producer_admin=True)
    t.producer_victim = factories.make_user("producer", producer=t.producer)
    t.location = factories.make_location(t.producer)
    t.product = factories.make_product(
        t.producer, gtin=_gtin(next(_serial) * 97), is_flagship=True, description="Cà phê rang xay."
    )
    t.image = add_product_image(t.product, picture(), actor=staff)
    t.certification = certificate(t, "product", t.product.id, "vietgap", "VG-", "chung-nhan.pdf")
    t.batch = factories.make_batch(t.product, origin_location_id=t.location.id)
    t.event = record_event(
        t.batch,
        {"type": "harvesting", "time": datetime(2026, 10, 2, 8, 0, tzinfo=UTC), "location_id": t.location.id},
        actor=staff,
    )
    t.photo_event = record_event(
        t.batch,
        {"type": "packing", "time": datetime(2026, 10, 2, 9, 0, tzinfo=UTC)},
        actor=staff,
        photo=picture(),
    )
    t.items = create_serials(t.batch, 2, actor=staff)
    t.job = queue_label_job(t.batch, plan_labels(t.batch, {"template": "a4-3x8"}), actor=staff)
    t.recalled_batch = factories.make_batch(t.product)
    t.recall = recall_batch(t.recalled_batch, "Phát hiện nấm mốc trong kho.", actor=staff)
    t.inspection = create_inspection(nonconformity("batch", t.batch.id), actor=staff, photos=[picture()])
    t.photo = t.inspection.photos[0]
    t.report = ProblemReport(batch_id=t.batch.id, message="Bao bì bị rách.", contact="0900000000")
    _db.session.add(t.report)
    _db.session.add(Scan(batch_id=t.batch.id, language="vi", device_class="mobile"))
    _db.session.flush()
    return t


def centre_records(t: Target) -> None:
    """The centre's own records: an account to manage, a contract, an audit entry."""
    t.victim = factories.make_user("centre_staff", centre=t.centre)
    t.contract = contract(
        t, "technology_transfer", "HD-", "HTX Nông nghiệp Ea Tu", date(2026, 3, 1), "150000000"
    )
    _db.session.flush()


@dataclass
class Principal:
    """A signed-in browser (session cookie and its CSRF token) and an API token of one user."""

    role: str | None
    user: Any = None
    cookie: str | None = None
    csrf: str | None = None
    token: str | None = None


@dataclass
class World:
    """The app, the records of each tenant and who asks."""

    app: Flask
    targets: dict[str, Target]
    principals: dict[str, Principal]
    anonymous: Principal


def _session_cookie(client: RequestIsolatedClient, app: Flask) -> str | None:
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return cookie.value if cookie else None


def _csrf(client: RequestIsolatedClient, url: str) -> str:
    match = CSRF_PATTERN.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(app: Flask, user: Any) -> Principal:
    client = app.test_client()
    token = _csrf(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, f"{user.email} could not sign in"
    csrf = _csrf(client, "/account/password")
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 201, response.get_json()
    return Principal(user.role, user, _session_cookie(client, app), csrf, response.get_json()["token"])


@pytest.fixture(scope="module")
def world(_app: Flask) -> Iterator[World]:
    """Two provinces; in Đắk Lắk two producers, in Nghệ An one; a user of each role in Đắk Lắk."""
    _app.logger.addHandler(errors := _Errors())
    with _app.app_context():
        daklak, nghean = factories.make_centre("66"), factories.make_centre("40")
        people = {}
        for centre in (daklak, nghean):
            people[centre.id] = (
                factories.make_user("centre_staff", centre=centre),
                factories.make_user("centre_admin", centre=centre),
            )
        targets = {
            "own": build_target("own", daklak, *people[daklak.id]),
            "sibling": build_target("sibling", daklak, *people[daklak.id]),
            "other": build_target("other", nghean, *people[nghean.id]),
        }
        for key in ("own", "other"):
            centre_records(targets[key])
        targets["sibling"].victim, targets["sibling"].contract = (
            targets["own"].victim,
            targets["own"].contract,
        )
        auditor = factories.make_user("auditor", centre=daklak)
        ministry = factories.make_user("ministry")
        _db.session.commit()
        for t in targets.values():
            run_label_job(t.job.id)
            t.entry_id = _db.session.scalar(
                select(AuditEntry.id).where(AuditEntry.producer_id == t.producer.id).order_by(AuditEntry.id)
            )
            default_args(t)
        own = targets["own"]
        users = {
            "ministry": ministry,
            "centre_admin": own.admin,
            "centre_staff": own.staff,
            "auditor": auditor,
            "producer": own.producer_user,
        }
        principals = {role: sign_in(_app, user) for role, user in users.items()}
        client = _app.test_client()
        anonymous = Principal(None, csrf=_csrf(client, "/login"), cookie=_session_cookie(client, _app))
        _db.session.commit()
        yield World(_app, targets, principals, anonymous)
        _empty_tables()
        login_throttle.reset()
    _app.logger.removeHandler(errors)


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class Rule:
    """Who may use one endpoint and method.

    ``roles`` None: anyone, signed out too. ``scoped``: the URL or body names a
    tenant's record, so another province's (and, for a producer, another
    producer's) is refused; the ministry sees every tenant. ``args`` gives URL
    arguments for a target and role (fresh records, say), ``query`` the query
    string, ``body`` the form (web) or JSON (API) of a request the endpoint
    accepts; with ``succeed`` every allowed request must succeed (below 400),
    which shows the body is valid and so that a refusal is about the record.
    ``refusals``: the statuses that count as refusing a role or tenant (a form
    whose choices hold only the user's own records answers 422).
    """

    roles: frozenset[str] | None
    scoped: bool = True
    args: Callable[[Target, str | None], dict[str, Any]] | None = None
    query: Callable[[Target], dict[str, Any]] | None = None
    body: Callable[[Target], dict[str, Any]] | None = None
    multipart: bool = False
    succeed: bool = False
    refusals: tuple[int, ...] = (403, 404)
    accept: Callable[[Any], bool] | None = None
    # Roles whose form has no choice of tenant: a forged one is ignored and the record is
    # their own; ``count`` tells how many records the target's tenant holds, which must not change.
    forced_own: frozenset[str] = frozenset()
    count: Callable[[Target], int] | None = None


def public(**kwargs: Any) -> Rule:
    return Rule(None, scoped=False, **kwargs)


def signed_in(**kwargs: Any) -> Rule:
    kwargs.setdefault("scoped", False)
    return Rule(ALL, **kwargs)


def only(*roles: str | frozenset[str], **kwargs: Any) -> Rule:
    names: set[str] = set()
    for role in roles:
        names |= {role} if isinstance(role, str) else set(role)
    assert names <= ALL, names - ALL
    return Rule(frozenset(names), **kwargs)


def per_method(**rules: Rule) -> dict[str, Rule]:
    return rules


# ---------------------------------------------------------------- fresh records and bodies
# An allowed request may change or delete its record (approve a producer, close
# a recall, delete an image): such routes get a fresh record for every request,
# in the state the action needs, so each request is judged on the same footing.


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_serial):05d}"


def fresh_batch(t: Target) -> Any:
    return factories.make_batch(t.product)


def fresh_event(t: Target) -> Any:
    return record_event(
        t.batch, {"type": "storing", "time": datetime(2026, 10, 3, 8, 0, tzinfo=UTC)}, actor=t.staff
    )


def fresh_ocop_claim(t: Target) -> Any:
    """A product with a declared OCOP rating, its decision attached: ready for the centre."""
    product = factories.make_product(t.producer)
    ocop = {"group": "food", "stars": 4, "certificate_no": _unique("OCOP-"), "issued_on": date(2025, 6, 1)}
    declare_ocop(product, ocop, actor=t.staff, document=PDF, document_name="quyet-dinh.pdf")
    return product


def fresh_flagship_claim(t: Target) -> Any:
    product = factories.make_product(t.producer)
    declare_flagship(product, True, actor=t.staff)
    return product


def fresh_recall(t: Target) -> Any:
    return recall_batch(fresh_batch(t), "Phát hiện nấm mốc trong kho.", actor=t.staff)


def certificate(t: Target, scope: str, subject_id: int, kind: str, prefix: str, document_name: str) -> Any:
    """A certificate of ``t``'s producer with its PDF, in force 2026-2028, as the centre's staff adds it."""
    return create_certification(
        {
            "scope": scope,
            "subject_id": subject_id,
            "type": kind,
            "number": _unique(prefix),
            "issuer": "Trung tâm Chứng nhận Phù hợp",
            "valid_from": date(2026, 1, 1),
            "valid_to": date(2028, 1, 1),
        },
        actor=t.staff,
        document=PDF,
        document_name=document_name,
    )


def fresh_certification(t: Target) -> Any:
    return certificate(t, "producer", t.producer.id, "haccp", "HACCP-", "haccp.pdf")


def fresh_image(t: Target) -> Any:
    return add_product_image(factories.make_product(t.producer), picture(), actor=t.staff)


def fresh_inspection(t: Target, status: str = "open") -> Any:
    inspection = create_inspection(nonconformity("producer", t.producer.id), actor=t.staff)
    if status in ("answered", "closed"):
        answer_inspection(inspection, "Đã dán lại nhãn có hạn sử dụng.", actor=t.producer_user)
    if status == "closed":
        close_inspection(inspection, actor=t.staff)
    return inspection


def dispute_claim(t: Target) -> dict[str, Any]:
    """A claim by ``t``'s producer, for a new product of its own, to the GTIN of a new product of
    another producer of its province (never the "sibling" target's: that producer must not see it)."""
    holder = t.extra.get("gtin_holder") or t.extra.setdefault(
        "gtin_holder", factories.make_producer(t.centre)
    )
    held = factories.make_product(holder, gtin=_gtin(next(_serial) * 97))
    claiming = factories.make_product(t.producer)
    return {"gtin": held.gtin, "product_id": claiming.id, "gs1_membership_no": _unique("GS1VN-")}


def claim_records(t: Target, role: str | None) -> dict[str, Any]:
    """No URL arguments: only so that the database is read after the body's new products are made."""
    return {}


def fresh_dispute(t: Target) -> Any:
    """An open GTIN dispute of ``t``'s producer, with its evidence document, as its centre's staff opens it."""
    return open_dispute(dispute_claim(t), actor=t.staff, document=PDF, document_name="gs1-thanh-vien.pdf")


def dispute_form(t: Target) -> dict[str, Any]:
    return {key: str(value) for key, value in dispute_claim(t).items()}


def fresh_producer(t: Target, status: str) -> Any:
    return factories.make_producer(t.centre, status=status)


def contract(t: Target, kind: str, prefix: str, counterparty: str, signed_on: date, value_vnd: str) -> Any:
    """A contract of ``t``'s centre, as its admin records it."""
    return save_contract(
        {
            "kind": kind,
            "number": _unique(prefix),
            "counterparty": counterparty,
            "signed_on": signed_on,
            "value_vnd": value_vnd,
        },
        actor=t.admin,
    )


def fresh_contract(t: Target) -> Any:
    return contract(t, "service", "DV-", "Công ty TNHH Nông sản Tây Nguyên", date(2026, 4, 1), "20000000")


def fresh(name: str, make: Callable[[Target], Any], attribute: str = "id") -> Callable[[Target, Any], dict]:
    """URL arguments with ``name`` set to a new record made by ``make``."""
    return lambda t, role: {name: getattr(make(t), attribute)}


def image_args(t: Target, role: str | None) -> dict[str, Any]:
    image = fresh_image(t)
    return {"product_id": image.product_id, "image_id": image.id}


def managed_user(t: Target, role: str | None) -> dict[str, Any]:
    """The account each admin manages: a centre's staff member, or a producer's user."""
    return {"user_id": (t.producer_victim if role == "producer" else t.victim).id}


def language(t: Target, role: str | None) -> dict[str, Any]:
    return {"code": "en"}


def web_file(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def epcis_document(t: Target) -> dict[str, Any]:
    """One storing event of ``t``'s lot, as another system sends it."""
    lot = f"https://id.gs1.org/01/{t.product.gtin}/10/{t.batch.lot_code}"
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-05T08:00:00+07:00",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "action": "OBSERVE",
                    "bizStep": "storing",
                    "eventTime": "2026-11-05T08:00:00+07:00",
                    "eventTimeZoneOffset": "+07:00",
                    "epcList": [],
                    "quantityList": [{"epcClass": lot, "quantity": 5, "uom": "KGM"}],
                }
            ]
        },
    }


def indexed(t: Target, column: str) -> Any:
    """A value of the EPCIS query index for ``t``'s first event (its eventID, its place)."""
    row = _db.session.execute(
        select(EpcisQueryEvent).where(
            EpcisQueryEvent.source == "event", EpcisQueryEvent.source_id == t.event.id
        )
    ).scalar_one()
    return getattr(row, column)


def place_args(t: Target) -> dict[str, Any]:
    """The business location of ``t``'s first event, for ``/epcis/bizLocations/{value}``."""
    return {"resource": "bizLocations", "value": indexed(t, "biz_location")}


def lot_class(t: Target) -> str:
    return f"https://id.gs1.org/01/{t.product.gtin}/10/{t.batch.lot_code}"


def capture_job_of(t: Target) -> str:
    """A capture job of ``t``'s centre staff (one per tenant, made on first use)."""
    if "capture_id" not in t.extra:
        t.extra["capture_id"] = run_capture_job(epcis_document(t), actor=t.staff).capture_id
        _db.session.commit()
    return t.extra["capture_id"]


def managed_token(t: Target, role: str | None) -> dict[str, Any]:
    """A new API token of the account each admin manages (revoking it changes nothing else)."""
    user = t.producer_victim if role == "producer" else t.victim
    return {"token_id": issue_token(user, name=_unique("tep-"))[1].id}


def own_notification(t: Target, role: str | None) -> dict[str, Any]:
    """A new notification of the user who asks as ``role`` (anyone's when signed out): each user
    reaches only their own, which tests/notifications/test_pages.py checks user by user."""
    users = {"producer": t.producer_user, "centre_staff": t.staff, "centre_admin": t.admin}
    user = users.get(role or "centre_staff") or _db.session.scalar(select(User).where(User.role == role))
    notification = Notification(user_id=user.id, kind="recall", params={}, link="/manage")
    _db.session.add(notification)
    _db.session.flush()
    return {"notification_id": notification.id}


def signed_out_again(response: Any) -> bool:
    """Signing out leads to the plain login page (a refusal would add ``?next=``)."""
    return response.status_code == 302 and response.headers.get("Location") == "/login"


# ---------------------------------------------------------------- the policy of every route

READ = signed_in(scoped=True)  # any role, on records of its own tenant
LIST = signed_in()  # any role; the list itself is filtered to the tenant
WRITE = only(WRITERS)  # centre staff and producers (not auditors, not the ministry), own tenant
# The body names a tenant's record: the API refuses another tenant's with 403 or 404; a web form
# offers only the user's own records, so another's is not a valid choice (422).
API_BODY_SCOPED: dict[str, Any] = {"succeed": True}
BODY_SCOPED: dict[str, Any] = {"refusals": (403, 404, 422), "succeed": True}


def _count(model: type, condition: Any) -> int:
    _db.session.commit()
    return _db.session.scalar(select(func.count()).select_from(model).where(condition)) or 0


def _api_dates(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in data.items()}


def producer_decisions(prefix: str) -> dict[str, Rule]:
    """The centre's four decisions on a producer (``prefix``: the web's or the API's), each on a fresh one."""

    def decision(status: str, reason: str | None = None) -> Rule:
        return only(
            CENTRE,
            args=fresh("producer_id", lambda t: fresh_producer(t, status)),
            body=(lambda t: {"reason": reason}) if reason else None,
            succeed=True,
        )

    return {
        f"{prefix}approve": decision("pending"),
        f"{prefix}reject": decision("pending", "Thiếu giấy phép kinh doanh."),
        f"{prefix}suspend": decision("approved", "Vi phạm ghi nhãn."),
        f"{prefix}reinstate": decision("suspended"),
    }


def organic_certificate(prefix: str) -> dict[str, Any]:
    """The fields of a new organic certificate (its subject aside), numbered ``prefix`` and a serial."""
    return {
        "type": "organic",
        "number": _unique(prefix),
        "issuer": "Công ty Chứng nhận Hữu cơ",
        "valid_from": "2026-01-01",
        "valid_to": "2028-01-01",
    }


def new_batch(t: Target, lot_code: str, quantity: str | int) -> dict[str, Any]:
    """A new lot of ``t``'s product."""
    return {
        "product_id": t.product.id,
        "lot_code": lot_code,
        "production_date": "2026-11-01",
        "quantity": quantity,
        "unit": "KGM",
    }


def inspection_form(t: Target) -> dict[str, Any]:
    """The inspection form as a browser posts it: every item answered yes, a minor nonconformity."""
    data: dict[str, Any] = {f"checklist-{code}": "yes" for code in checklist_for("batch")}
    data.update(
        {
            "inspected_on": (TODAY - timedelta(days=1)).isoformat(),
            "inspector": "Nguyễn Văn Kiểm",
            "findings": "Kho chứa không tách hàng đã đóng gói khỏi nguyên liệu.",
            "outcome": "nonconformity",
            "severity": "minor",
            "follow_up_on": (TODAY + timedelta(days=30)).isoformat(),
        }
    )
    return data


POLICY: dict[str, Rule | dict[str, Rule]] = {
    # --- accounts
    "accounts.login": public(),
    "accounts.logout": signed_in(accept=signed_out_again),
    "accounts.password_change": signed_in(),  # an empty form: the password stays
    "accounts.users.index": only("centre_admin", "producer", scoped=False),  # producer: its producer's admin
    "accounts.users.new": only("centre_admin", "producer", scoped=False),
    "accounts.users.disable": only("centre_admin", "producer", args=managed_user),
    "accounts.users.enable": only("centre_admin", "producer", args=managed_user),
    "accounts.users.reset_password": only("centre_admin", "producer", args=managed_user),
    "accounts.tokens": signed_in(),
    "accounts.users.tokens": only("centre_admin", "producer", args=managed_user),
    # One's own tokens too (tests/security/test_sessions.py); here, those of a managed account.
    "accounts.token_revoke": only("centre_admin", "producer", args=managed_token, succeed=True),
    # --- public pages
    "static": public(),
    "public.index": public(),
    "public.lookup": public(),
    "public.livez": public(),
    "public.readyz": public(),
    "public.media": public(),
    "public.digital_link": public(),
    "public.short_code": public(),
    "public.gs1_resolver_description": public(),
    "public.set_language": public(args=language),
    "public.set_page_language": public(args=language),
    "public.directory.index": public(),
    "public.directory.product": public(),
    "public.directory.product_by_id": public(),
    "public.directory.sitemap": public(),
    "public.directory.robots": public(),
    "public.sign_up.new": public(),
    "public.sign_up.received": public(),
    "public.report_problem.new": public(),  # a consumer reports a problem with the lot in hand
    "public.report_problem.status": public(),  # opened by the report's secret token alone
    # --- registry
    "registry.dashboard": LIST,
    "registry.products": LIST,
    "registry.product_new": per_method(
        GET=only(WRITERS, scoped=False),
        POST=only(
            WRITERS,
            body=lambda t: {"name": "Cà phê hạt Arabica", "category": "Cà phê", "producer_id": t.producer.id},
            forced_own=frozenset({"producer"}),  # a producer's products are its own, whatever it sends
            count=lambda t: _count(Product, Product.producer_id == t.producer.id),
            **BODY_SCOPED,
        ),
    ),
    "registry.product_detail": READ,
    "registry.product_edit": WRITE,
    "registry.product_image_add": WRITE,
    "registry.product_image_main": only(WRITERS, args=image_args),
    "registry.product_image_delete": only(WRITERS, args=image_args),
    "registry.locations": LIST,
    "registry.location_new": per_method(
        GET=only(WRITERS, scoped=False),
        POST=only(
            WRITERS,
            body=lambda t: {
                "name": "Kho sơ chế",
                "kind": "facility",
                "province_code": t.centre.province_code,
                "producer_id": t.producer.id,
            },
            forced_own=frozenset({"producer"}),
            count=lambda t: _count(Location, Location.producer_id == t.producer.id),
            **BODY_SCOPED,
        ),
    ),
    "registry.location_edit": WRITE,
    # A producer's own first product, its place and its certificate: nothing in it names a tenant.
    "registry.start.index": per_method(
        GET=only("producer", scoped=False),
        POST=only(
            "producer",
            scoped=False,
            body=lambda t: {
                "product-name": "Cà phê hạt Arabica",
                "place_id": "0",
                "place-name": "Vườn Cư M'gar",
                "place-kind": "farm",
                "place-province_code": t.centre.province_code,
                "covers": "location",
                "certificate-type": "vietgap",
            },
            multipart=True,
            succeed=True,
        ),
    ),
    "registry.producers.index": LIST,
    "registry.producers.me": LIST,
    "registry.producers.detail": READ,
    # the producer's own administrator or its centre's staff
    "registry.producers.edit": only("centre_admin", "centre_staff", "producer"),
    **producer_decisions("registry.producers."),
    "registry.certifications.index": LIST,
    "registry.certifications.new": per_method(
        GET=only(WRITERS, scoped=False),
        POST=only(
            WRITERS,
            body=lambda t: {"subject": f"product:{t.product.id}", **organic_certificate("HC-")},
            **BODY_SCOPED,
        ),
    ),
    "registry.certifications.detail": READ,
    "registry.certifications.document": READ,
    "registry.certifications.edit": WRITE,
    "registry.certifications.verify": only(
        CENTRE, args=fresh("certification_id", fresh_certification), succeed=True
    ),
    "registry.certifications.reject": only(CENTRE),
    "reports.worklists.index": only(CENTRE_READERS, scoped=False),
    "registry.gtin_disputes.index": LIST,
    "registry.gtin_disputes.new": per_method(
        GET=only(WRITERS, scoped=False),
        POST=only(WRITERS, args=claim_records, body=dispute_form, **BODY_SCOPED),
    ),
    "registry.gtin_disputes.detail": READ,
    "registry.gtin_disputes.document": READ,
    "registry.gtin_disputes.decide": only(
        CENTRE,
        args=fresh("dispute_id", fresh_dispute),
        body=lambda t: {"outcome": "holder", "reason": "Bên yêu cầu chưa có giấy chứng nhận GS1."},
        succeed=True,
    ),
    # --- batches, events, labels, recalls
    "batches.batch_new": per_method(
        GET=only(WRITERS, scoped=False),
        POST=only(
            WRITERS,
            body=lambda t: new_batch(t, _unique("W"), quantity="10"),  # a form's field is text
            **BODY_SCOPED,
        ),
    ),
    "batches.batch_detail": per_method(GET=READ, POST=WRITE),  # POST records an event
    "batches.batch_list": LIST,
    "batches.batch_edit": per_method(GET=WRITE, POST=WRITE),
    "batches.chain": READ,
    "batches.batch_qr_png": READ,
    "batches.batch_qr_svg": READ,
    "batches.item_qr_png": READ,
    "batches.item_qr_svg": READ,
    "batches.event_correct": WRITE,
    "batches.event_retract": WRITE,
    "batches.event_photo": signed_in(scoped=True, args=fresh("event_id", lambda t: t.photo_event)),
    "batches.exports.chain_csv": READ,
    "batches.exports.chain_xlsx": READ,
    "batches.labels.items": READ,
    "batches.labels.create_items": WRITE,
    "batches.labels.print_labels": WRITE,
    "batches.labels.job": READ,
    "batches.labels.job_download": READ,
    "batches.labels.job_restart": WRITE,
    "batches.recalls.index": LIST,
    "batches.recalls.start": WRITE,
    "batches.recalls.detail": per_method(
        GET=READ,
        POST=only(  # closing a recall is the centre's decision
            CENTRE,
            args=fresh("recall_id", fresh_recall),
            body=lambda t: {"close-outcome": "withdrawn", "close-note": "Đã thu hồi và tiêu huỷ toàn bộ lô."},
            succeed=True,
        ),
    ),
    "batches.quality.index": only(CENTRE_READERS, scoped=False),
    # --- inspections
    "inspections.index": LIST,
    "inspections.new": per_method(
        GET=only(CENTRE, scoped=False),
        POST=only(
            CENTRE,
            query=lambda t: {"subject": f"batch:{t.batch.id}"},
            body=inspection_form,
            multipart=True,
            **BODY_SCOPED,
        ),
    ),
    "inspections.detail": READ,
    "inspections.photo": READ,
    "inspections.add_photo": only(CENTRE),
    "inspections.answer": only("producer"),
    "inspections.close": only(CENTRE),
    "inspections.reopen": only(CENTRE),
    # --- consumers' problem reports
    "public.problem_reports.index": LIST,
    "public.problem_reports.close": only(CENTRE),
    "public.problem_reports.reply": only(WRITERS),  # the centre's staff and the producer's users answer
    # --- a user's own notifications and email settings
    "notifications.index": LIST,  # the caller's own
    "notifications.settings": signed_in(),
    "notifications.read_all": signed_in(),
    "notifications.open_notification": signed_in(args=own_notification),
    "notifications.read": signed_in(args=own_notification),
    # --- the audit log, dashboards and reports
    "reports.audit_log.index": only(CENTRE_READERS, scoped=False),
    "reports.audit_log.detail": only(CENTRE_READERS),
    "reports.dashboard.index": only(CENTRE_READERS, scoped=False),
    "reports.dashboard.chart_csv": only(CENTRE_READERS, scoped=False),
    "reports.scans.index": LIST,
    "reports.scans.chart_csv": signed_in(args=lambda t, role: {"chart_key": "per-day"}),
    "reports.centre_work.index": only(CENTRE_READERS, scoped=False),
    "reports.centre_work.new": per_method(
        GET=only(CENTRE, scoped=False),
        POST=only(
            CENTRE,
            scoped=False,  # always the user's own centre
            body=lambda t: {
                "kind": "consulting",
                "number": _unique("TV-"),
                "counterparty": "HTX Cà phê Ea Kiết",
                "signed_on": "2026-05-01",
                "value_vnd": "5000000",
            },
            succeed=True,
        ),
    ),
    "reports.centre_work.edit": only(CENTRE),
    "reports.centre_work.delete": only(CENTRE, args=fresh("record_id", fresh_contract), succeed=True),
    "reports.yearly.index": only(CENTRE_READERS, scoped=False),
    "reports.yearly.centre": only(CENTRE_READERS),
    "reports.yearly.centre_xlsx": only(CENTRE_READERS),
    "reports.yearly.centre_pdf": only(CENTRE_READERS),
    "reports.yearly.national": only("ministry"),
    "reports.yearly.national_xlsx": only("ministry"),
    "reports.yearly.national_pdf": only("ministry"),
    # --- the field app: producers on a phone, with the website's session
    "field.app_shell": only("producer", scoped=False),
    "field.manifest": public(),  # browsers fetch a manifest without cookies
    "field.service_worker": public(),
    "field.session_info": only("producer", scoped=False),
    "field.lots": only("producer", scoped=False),  # the producer's own open lots
    "field.lot_lookup": only("producer", query=lambda t: {"code": f"/t/{t.batch.public_code}"}),
    "field.events": only(
        "producer",
        body=lambda t: {"batch_id": t.batch.id, "type": "storing", "time": "2026-11-02T08:00:00+07:00"},
        succeed=True,
    ),
    # --- the JSON API (bearer tokens)
    "api.create_token": public(),
    "api.openapi": public(),
    "api.list_tokens": LIST,  # the caller's own
    # --- a token's user's own notifications and email settings
    "api.notifications_list": LIST,  # the caller's own
    "api.notifications_read": signed_in(args=own_notification, succeed=True),
    "api.notifications_read_all": signed_in(succeed=True),
    "api.notification_settings_get": signed_in(),
    "api.notification_settings_put": signed_in(body=lambda t: {"emailed": []}, succeed=True),
    "api.delete_token": only("centre_admin", "producer", args=managed_token, succeed=True),
    "api.producers_list": LIST,
    "api.producers_get": READ,
    "api.producers_create": only(
        CENTRE,
        "ministry",
        body=lambda t: {
            "name": f"HTX Hồ tiêu {_unique('')}",
            "kind": "cooperative",
            "tax_code": f"{7000000000 + next(_serial)}",
            "province_code": t.centre.province_code,
        },
        **API_BODY_SCOPED,
    ),
    "api.producers_update": only(
        "centre_admin", "centre_staff", "producer", body=lambda t: {"phone": "0262 3850 000"}, succeed=True
    ),
    **producer_decisions("api.producers_"),
    "api.locations_list": LIST,
    "api.locations_get": READ,
    "api.locations_create": only(
        WRITERS,
        body=lambda t: {"name": "Kho thành phẩm", "kind": "warehouse", "producer_id": t.producer.id},
        **API_BODY_SCOPED,
    ),
    "api.locations_update": only(WRITERS, body=lambda t: {"ward": "Xã Ea Tu"}, succeed=True),
    "api.products_list": LIST,
    "api.products_get": READ,
    "api.products_create": only(
        WRITERS, body=lambda t: {"name": "Cà phê phin giấy", "producer_id": t.producer.id}, **API_BODY_SCOPED
    ),
    "api.products_update": only(WRITERS, body=lambda t: {"brand": "Ea Tu"}, succeed=True),
    "api.products_ocop_verify": only(CENTRE, args=fresh("product_id", fresh_ocop_claim), succeed=True),
    "api.products_ocop_reject": only(
        CENTRE,
        args=fresh("product_id", fresh_ocop_claim),
        body=lambda t: {"reason": "Số quyết định không khớp."},
        succeed=True,
    ),
    "api.products_flagship_verify": only(
        CENTRE, args=fresh("product_id", fresh_flagship_claim), succeed=True
    ),
    "api.products_flagship_reject": only(
        CENTRE,
        args=fresh("product_id", fresh_flagship_claim),
        body=lambda t: {"reason": "Không có trong danh mục sản phẩm chủ lực của tỉnh."},
        succeed=True,
    ),
    "api.product_images_create": only(
        WRITERS, body=lambda t: {"file": web_file(picture(), "anh.png")}, multipart=True, succeed=True
    ),
    "api.gtin_disputes_list": LIST,
    "api.gtin_disputes_get": READ,
    "api.gtin_disputes_create": only(WRITERS, args=claim_records, body=dispute_claim, **API_BODY_SCOPED),
    "api.gtin_disputes_decide": only(
        CENTRE,
        args=fresh("dispute_id", fresh_dispute),
        body=lambda t: {"outcome": "holder", "reason": "Bên yêu cầu chưa có giấy chứng nhận GS1."},
        succeed=True,
    ),
    "api.certifications_list": LIST,
    "api.certifications_get": READ,
    "api.certifications_create": only(
        WRITERS,
        body=lambda t: {"scope": "product", "subject_id": t.product.id, **organic_certificate("ORG-")},
        **API_BODY_SCOPED,
    ),
    "api.certifications_document": only(
        WRITERS, body=lambda t: {"file": web_file(PDF, "giay-chung-nhan.pdf")}, multipart=True
    ),
    "api.certifications_verify": only(
        CENTRE, args=fresh("certification_id", fresh_certification), succeed=True
    ),
    "api.certifications_reject": only(
        CENTRE,
        args=fresh("certification_id", fresh_certification),
        body=lambda t: {"reason": "Số chứng nhận không khớp."},
        succeed=True,
    ),
    "api.batches_list": LIST,
    "api.batches_get": READ,
    "api.batches_update": only(WRITERS, body=lambda t: {"expiry_date": "2027-12-31"}, succeed=True),
    "api.batches_create": only(
        WRITERS,
        body=lambda t: new_batch(t, _unique("A"), quantity=10),
        **API_BODY_SCOPED,
    ),
    "api.batch_events_list": READ,
    "api.batch_events_create": only(
        WRITERS, body=lambda t: {"type": "storing", "time": "2026-11-02T08:00:00+07:00"}, succeed=True
    ),
    "api.batch_event_correct": only(
        WRITERS,
        args=fresh("event_id", fresh_event),
        body=lambda t: {"type": "storing", "time": "2026-10-03T09:00:00+07:00", "reason": "Sai giờ."},
        succeed=True,
    ),
    "api.batch_event_retract": only(
        WRITERS, args=fresh("event_id", fresh_event), body=lambda t: {"reason": "Ghi nhầm lô."}, succeed=True
    ),
    "api.batch_trace": READ,
    "api.batch_items_list": READ,
    "api.batch_serials_create": only(WRITERS, body=lambda t: {"count": 1}, succeed=True),
    "api.batch_qr_png": READ,
    "api.batch_qr_svg": READ,
    "api.item_qr_png": READ,
    "api.item_qr_svg": READ,
    "api.batch_labels_pdf": signed_in(scoped=True, query=lambda t: {"template": "a4-3x8"}),
    "api.batch_label_job_create": only(WRITERS, body=lambda t: {"template": "a4-3x8"}, succeed=True),
    "api.label_job_get": READ,
    "api.label_job_pdf": READ,
    "api.batch_epcis": READ,
    # another tenant's lot is refused as unknown (422): its existence is not revealed
    "api.epcis_capture": only(WRITERS, body=epcis_document, **BODY_SCOPED),
    "api.epcis_capture_event": only(
        WRITERS, body=lambda t: epcis_document(t)["epcisBody"]["eventList"][0], **BODY_SCOPED
    ),
    "api.batch_chain_csv": READ,
    "api.batch_chain_xlsx": READ,
    "api.batch_recall": only(
        WRITERS, args=fresh("batch_id", fresh_batch), body=lambda t: {"reason": "Nấm mốc."}, succeed=True
    ),
    "api.recalls_get": READ,
    "api.batch_event_photo": signed_in(scoped=True, args=fresh("event_id", lambda t: t.photo_event)),
    "api.recalls_close": only(
        CENTRE,
        args=fresh("recall_id", fresh_recall),
        body=lambda t: {"note": "Đã xử lý.", "outcome": "withdrawn"},
        succeed=True,
    ),
    "api.inspections_checklists": LIST,
    "api.inspections_list": LIST,
    "api.inspections_get": READ,
    "api.inspections_photo": READ,
    "api.inspections_create": only(
        CENTRE, body=lambda t: _api_dates(nonconformity("batch", t.batch.id)), **API_BODY_SCOPED
    ),
    "api.inspections_add_photo": only(
        CENTRE, body=lambda t: {"file": web_file(picture(), "anh.png")}, multipart=True, succeed=True
    ),
    "api.inspections_answer": only(
        "producer",
        args=fresh("inspection_id", fresh_inspection),
        body=lambda t: {"response": "Đã dán lại nhãn."},
        succeed=True,
    ),
    "api.inspections_close": only(
        CENTRE,
        args=fresh("inspection_id", lambda t: fresh_inspection(t, "answered")),
        body=lambda t: {"note": "Đạt."},
        succeed=True,
    ),
    "api.inspections_reopen": only(
        CENTRE,
        args=fresh("inspection_id", lambda t: fresh_inspection(t, "closed")),
        body=lambda t: {"reason": "Nhãn mới vẫn thiếu hạn sử dụng."},
        succeed=True,
    ),
    # --- the EPCIS 2.0 REST binding at /epcis (the same bearer tokens)
    "epcis.top_level": LIST,
    "epcis.events": LIST,  # the answer is filtered to the tenant
    "epcis.event": signed_in(scoped=True, args=lambda t, role: {"event_id": indexed(t, "event_id")}),
    "epcis.vocabulary": LIST,
    "epcis.vocabulary_member": signed_in(scoped=True, args=lambda t, role: place_args(t)),
    "epcis.vocabulary_events": signed_in(scoped=True, args=lambda t, role: place_args(t)),
    "epcis.epcs": LIST,
    "epcis.epc": signed_in(scoped=True, args=lambda t, role: {"epc": lot_class(t)}),
    "epcis.epc_events": signed_in(scoped=True, args=lambda t, role: {"epc": lot_class(t)}),
    # A capture runs as a job (202); another tenant's lot fails inside the job, so the rule is
    # about roles, and each allowed capture must succeed. Auditors and the ministry only read.
    "epcis.capture": only(
        WRITERS,
        scoped=False,
        body=epcis_document,
        accept=lambda response: response.status_code == 202 and response.get_json()["success"] is True,
    ),
    "epcis.capture_jobs": LIST,  # the caller's own
    # A job is read by its sender (here the centre's staff) and its centre's staff: not the ministry.
    "epcis.capture_job": only(CENTRE, args=lambda t, role: {"capture_id": capture_job_of(t)}),
}


# ---------------------------------------------------------------- URL arguments


def default_args(t: Target) -> dict[str, Any]:
    """The URL arguments naming ``t``'s records, read once: later requests may delete or change them."""
    if "args" not in t.extra:
        t.extra["args"] = _args_of(t)
    return dict(t.extra["args"])


def _args_of(t: Target) -> dict[str, Any]:
    return {
        "batch_id": t.batch.id,
        "event_id": t.event.id,
        "item_id": t.items[0].id,
        "job_id": t.job.id,
        "producer_id": t.producer.id,
        "product_id": t.product.id,
        "image_id": t.image.id,
        "location_id": t.location.id,
        "certification_id": t.certification.id,
        "dispute_id": fresh_dispute(t).id,
        "inspection_id": t.inspection.id,
        "photo_id": t.photo.id,
        "recall_id": t.recall.id,
        "user_id": t.victim.id,
        "entry_id": t.entry_id,
        "report_id": t.report.id,
        "token": t.report.status_token,
        "centre_id": t.centre.id,
        "year": YEAR,
        "record_id": t.contract.id,
        "code": t.batch.public_code,
        "name": t.image.filename,
        "_identifiers": f"{t.product.gtin}/10/{t.batch.lot_code}",
        "filename": "css/app.css",
        "slug": product_slug(t.product.name),
    }


def url_for_rule(app: Flask, rule: Any, values: dict[str, Any]) -> str:
    args = {}
    for name, converter in rule._converters.items():
        if name in values:
            args[name] = values[name]
        elif hasattr(converter, "items"):  # any(a, b): its first value
            args[name] = sorted(converter.items)[0]
        else:
            raise AssertionError(f"no value for <{name}> of {rule.endpoint}: add one to default_args")
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, args, force_external=False)


# ---------------------------------------------------------------- requests and their outcome


TABLES: list[str] = []
# Bookkeeping of who asks, which any request (refused or not) may write: the throttles'
# counters, and when a session or an API token was last seen.
BOOKKEEPING = {"rate_limit_counter": None, "user_session": "last_seen_at", "api_token": "last_used_at"}


def _table_names() -> list[str]:
    if not TABLES:
        for table in _db.metadata.sorted_tables:
            if table.name in BOOKKEEPING and BOOKKEEPING[table.name] is None:
                continue
            columns = ", ".join(f'"{c.name}"' for c in table.columns if c.name != BOOKKEEPING.get(table.name))
            TABLES.append(f'SELECT {columns} FROM "{table.name}"')
    return TABLES


def fingerprint() -> str:
    """A digest of every row of every table: a refused request must not change it."""
    buffer = current_app.extensions.get("scan_buffer")
    if buffer is not None:  # scans of earlier public pages are written behind the response
        buffer.flush()
    _db.session.commit()
    digest = hashlib.sha256()
    connection = _db.engine.raw_connection()  # plain tuples, no type conversion: this runs often
    try:
        cursor = connection.cursor()
        for query in _table_names():
            cursor.execute(f"{query} ORDER BY 1")
            digest.update(f"{query}:{cursor.fetchall()!r}".encode())
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return digest.hexdigest()


def prepare(
    world: World, rule_obj: Any, method: str, rule: Rule, principal: Principal, t: Target, channel: str
):
    """The client and ``open`` arguments of one request (making any fresh record it needs first)."""
    app = world.app
    values = default_args(t)
    if rule.args:
        values.update(rule.args(t, principal.role))
    url = url_for_rule(app, rule_obj, values)
    if rule.query:
        url += "?" + urlencode(rule.query(t))
    client = app.test_client()
    headers = {"Accept-Language": "en"}
    is_api = is_api_endpoint(rule_obj.endpoint)
    cookie, csrf = (
        (principal.cookie, principal.csrf) if channel == "web" and principal.cookie else (None, None)
    )
    if channel == "api" and principal.token:
        headers["Authorization"] = f"Bearer {principal.token}"
    kwargs: dict[str, Any] = {"method": method, "headers": headers}
    body = rule.body(t) if rule.body else {}
    if method != "GET":
        if is_api and not rule.multipart:
            kwargs["json"] = body
        else:
            kwargs["data"] = dict(body)
            if not is_api:
                if cookie is None:  # a signed-out browser still has a session with its CSRF token
                    cookie, csrf = world.anonymous.cookie, world.anonymous.csrf
                kwargs["data"]["csrf_token"] = csrf
            if rule.multipart:
                kwargs["content_type"] = "multipart/form-data"
    if cookie:
        client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), cookie)
    _db.session.commit()
    return client, url, kwargs


def settle(app: Flask) -> None:
    """Run the label jobs a request queued, as the worker would: they write while they run."""
    _db.session.commit()
    job_queue(app).run_pending()
    _db.session.expire_all()


def _to_login(response: Any) -> bool:
    location = urlsplit(response.headers.get("Location", ""))
    return response.status_code in (301, 302, 303) and location.path == "/login"


def is_api_endpoint(endpoint: str) -> bool:
    """Bearer-token routes: /api/v1 and the EPCIS REST binding at /epcis."""
    return endpoint.startswith(("api.", "epcis."))


def refused(response: Any, rule: Rule, *, is_api: bool, signed_out: bool) -> str | None:
    """Why ``response`` is not the refusal it should be, or None."""
    status = response.status_code
    if signed_out:
        if is_api:
            return None if status == 401 else "signed out: expected 401"
        return None if _to_login(response) else "signed out: expected the login page"
    expected = " or ".join(str(code) for code in rule.refusals)
    return None if status in rule.refusals else f"expected {expected}"


class _Errors(logging.Handler):
    """The last unhandled error the app logged, to say why a request answered 500."""

    last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            _Errors.last = "".join(traceback.format_exception(*record.exc_info)[-3:]).strip()


def accepted(response: Any, rule: Rule) -> str | None:
    """Why ``response`` looks like a refusal (or a crash, or a refused body), or None."""
    status = response.status_code
    if status >= 500:
        return f"server error: {_Errors.last}"
    if rule.accept is not None:
        return None if rule.accept(response) else "not the answer of an allowed request"
    if status in (401, 403, 404):
        return "refused"
    if _to_login(response):
        return "sent to the login page"
    if rule.succeed and status >= 400:
        return f"failed: {response.get_data(as_text=True)[:300]}"
    return None


def expected_allowed(rule: Rule, role: str | None, target: str) -> bool:
    if rule.roles is None:
        return True
    if role is None or role not in rule.roles:
        return False
    if role == "ministry" or not rule.scoped or role in rule.forced_own:
        return True
    if target == "other":
        return False
    return not (target == "sibling" and role == "producer")


def plan_calls(
    world: World, endpoint: str, method: str, rule: Rule
) -> list[tuple[Principal, str, str, bool]]:
    """(principal, target, channel, allowed) for one endpoint and method, the refusals first.

    Other tenants' records are tried by the roles the rule lets in (a role
    refused on its own tenant is refused everywhere); the other channel's
    credentials by one role that the rule lets in, as they count for nothing.
    """
    primary = "api" if is_api_endpoint(endpoint) else "web"
    secondary = "web" if primary == "api" else "api"
    calls = [(world.anonymous, "own", primary, expected_allowed(rule, None, "own"))]
    for role in ROLES:
        calls.append((world.principals[role], "own", primary, expected_allowed(rule, role, "own")))
    admitted = [role for role in ROLES if rule.roles is not None and role in rule.roles]
    if rule.scoped and rule.roles is not None:
        for role in admitted:
            calls.append((world.principals[role], "other", primary, expected_allowed(rule, role, "other")))
        if "producer" in admitted:
            calls.append(
                (
                    world.principals["producer"],
                    "sibling",
                    primary,
                    expected_allowed(rule, "producer", "sibling"),
                )
            )
    crossing = admitted[0] if admitted else "centre_staff"
    calls.append((world.principals[crossing], "own", secondary, expected_allowed(rule, None, "own")))
    return sorted(calls, key=lambda call: call[3])


def check_endpoint(world: World, endpoint: str, rules: Rule | dict[str, Rule]) -> list[str]:
    app = world.app
    problems = []
    rule_objs = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    assert rule_objs, f"{endpoint} is in POLICY but not a route"
    is_api = is_api_endpoint(endpoint)
    for rule_obj in rule_objs:
        for method in sorted((rule_obj.methods or set()) - {"HEAD", "OPTIONS"}):
            rule = rules if isinstance(rules, Rule) else rules.get(method)
            if rule is None:
                problems.append(f"{endpoint} {method}: no policy for this method")
                continue
            last = None  # the database after the previous refusal: unchanged if this request makes no record
            for principal, target, channel, allowed in plan_calls(world, endpoint, method, rule):
                client, url, kwargs = prepare(
                    world, rule_obj, method, rule, principal, world.targets[target], channel
                )
                before = None
                if not allowed and method != "GET":
                    before = last if last is not None and rule.args is None else fingerprint()
                forced = principal.role in rule.forced_own and target != "own" and rule.count is not None
                held = rule.count(world.targets[target]) if forced else None
                response = client.open(url, **kwargs)
                settle(app)
                signed_out = principal.role is None or channel != ("api" if is_api else "web")
                if allowed:
                    problem = accepted(response, rule)
                    if problem is None and forced and rule.count(world.targets[target]) != held:
                        problem = "wrote into another tenant"
                else:
                    problem = refused(response, rule, is_api=is_api, signed_out=signed_out)
                    last = fingerprint() if before is not None else None
                    if problem is None and before is not None and last != before:
                        problem = "refused, but the database changed"
                who = "signed out" if principal.role is None else principal.role
                response.close()
                if problem:
                    how = "a browser session" if channel == "web" else "an API token"
                    problems.append(
                        f"{method} {url} as {who} ({how}) on the {target} tenant's record: {problem}; "
                        f"got {response.status_code} {response.headers.get('Location', '')}".rstrip()
                    )
    return problems


def test_every_route_has_a_policy(_app):
    endpoints = {rule.endpoint for rule in _app.url_map.iter_rules()}
    missing = sorted(endpoints - set(POLICY))
    stale = sorted(set(POLICY) - endpoints)
    assert not missing, f"routes without an authorization policy in {__name__}.POLICY: {missing}"
    assert not stale, f"policies of routes that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(POLICY))
def test_route_follows_its_policy(world, endpoint):
    problems = check_endpoint(world, endpoint, POLICY[endpoint])
    if endpoint == "accounts.logout":
        # Signing out ended those sessions on the server: the later routes need live ones.
        for role, principal in world.principals.items():
            again = sign_in(world.app, principal.user)
            world.principals[role] = replace(principal, cookie=again.cookie, csrf=again.csrf)
    assert not problems, "\n".join(problems)
