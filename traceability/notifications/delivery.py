"""The email outbox: the worker sends each queued notification once, retrying for days through an outage.

A notification to email is committed with the change that caused it, queued
(``email_status``) and due at once (``email_next_at``); the commit queues the
``notifications.deliver`` job with its ids. Both that job and the sweep
(``notifications.sweep``, every minute) send through ``deliver``:

1. claim the row: one conditional UPDATE, committed, moves it to ``sending``
   with a random token, only if it is still due; of two workers, one wins;
2. send it through the SMTP server (``MAIL_*`` settings);
3. mark it ``sent`` (it is never claimed again) or, when the server was away or
   answered a temporary error, ``retrying`` with the next try due after a
   backoff (1, 2, 4 ... minutes, at most 6 hours apart), until
   ``MAIL_RETRY_DAYS`` after it was written; then ``failed``. A permanent
   refusal (5xx for the recipient or the message) fails it at once.

A server that cannot be reached ends the pass: the other rows keep their turn
and the next sweep tries again, so an outage costs one connection attempt a
minute, loses nothing, and what the server accepted is never sent again. The
one gap is a worker that dies between the server's acceptance and step 3: its
claim expires after ``SEND_LEASE`` and the row is sent again (the same
Message-ID, so a mail client may fold the two).

Email goes through the standard library's ``smtplib`` (README, "Dependencies").
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, or_, select, update

from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.models.notifications import Notification
from traceability.notifications.links import absolute, page_path
from traceability.notifications.messages import Message, render

log = logging.getLogger(__name__)

#: How long a claim holds before another worker may take the row again (the sender died).
SEND_LEASE = timedelta(minutes=10)
#: Rows one sweep sends at most; the next sweep takes the rest.
SWEEP_BATCH = 500
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class MailSettings:
    """How to reach the SMTP server, from the ``MAIL_*`` settings."""

    server: str
    port: int
    use_starttls: bool
    use_ssl: bool
    username: str
    password: str
    sender: str
    timeout: float

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        return cls(
            server=str(config.get("MAIL_SERVER") or ""),
            port=int(config.get("MAIL_PORT") or 587),
            use_starttls=bool(config.get("MAIL_USE_STARTTLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=str(config.get("MAIL_USERNAME") or ""),
            password=str(config.get("MAIL_PASSWORD") or ""),
            sender=str(config.get("MAIL_FROM") or default_sender(config)),
            timeout=float(config.get("MAIL_TIMEOUT") or 30),
        )


def default_sender(config: Any) -> str:
    """``noreply@`` the public site's host, when MAIL_FROM is not set."""
    host = urlsplit(str(config.get("PUBLIC_BASE_URL") or "")).hostname or "localhost"
    return f"noreply@{host}"


def check_settings(config: Any) -> None:
    """Refuse settings that cannot work, when the app starts rather than at the first email."""
    if config.get("MAIL_USE_SSL") and config.get("MAIL_USE_STARTTLS"):
        raise RuntimeError(
            "MAIL_USE_SSL (TLS from the start, port 465) and MAIL_USE_STARTTLS (port 587) exclude each "
            "other: set one."
        )
    if config.get("MAIL_SERVER") and "@" not in parseaddr(MailSettings.from_config(config).sender)[1]:
        raise RuntimeError("MAIL_FROM must be an email address, for example noreply@trace.example.vn.")


class SendFailure(Exception):
    """A message not sent: ``permanent`` (never retried) or not; ``connection`` (stop this pass)."""

    def __init__(self, text: str, *, permanent: bool = False, connection: bool = False) -> None:
        super().__init__(text)
        self.text = text[:300]
        self.permanent = permanent
        self.connection = connection


def _failure(error: Exception) -> SendFailure:
    """What a failed send means: retried or not, and whether the server is still usable."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return SendFailure(f"recipient refused: {codes}", permanent=permanent)
    if isinstance(error, smtplib.SMTPDataError):
        return SendFailure(f"message refused: {error.smtp_code}", permanent=500 <= error.smtp_code < 600)
    if isinstance(error, smtplib.SMTPSenderRefused):  # MAIL_FROM: every message would fail alike
        return SendFailure(f"sender refused: {error.smtp_code}", connection=True)
    if isinstance(error, smtplib.SMTPResponseException):
        return SendFailure(f"server answered {error.smtp_code}", connection=True)
    return SendFailure(f"{type(error).__name__}: {error}", connection=True)


class Mailer:
    """One SMTP connection for a pass, opened at the first message."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.use_ssl:
            smtp = smtplib.SMTP_SSL(s.server, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.server, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.use_starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; SendFailure says why not."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            failure = _failure(error)
            if failure.connection:
                self.close()
            raise failure from error

    def close(self) -> None:
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


# ---------------------------------------------------------------- the message


def email_body(worded: Message, notification: Notification) -> str:
    """The plain-text body: the message, the link to the page concerned, how to change the settings."""
    user = notification.user
    lines = [_("Hello %(name)s,", name=user.name) if user is not None and user.name else _("Hello,"), ""]
    for paragraph in worded.paragraphs:
        lines += [paragraph, ""]
    if notification.link:
        lines += [_("Open the page: %(link)s", link=absolute(notification.link)), ""]
    lines += ["-- ", _("Product traceability")]
    if notification.user_id is not None:
        lines.append(
            _("Choose which notifications you get by email: %(link)s", link=absolute(page_path("settings")))
        )
    return "\n".join(lines) + "\n"


def compose(notification: Notification, settings: MailSettings) -> EmailMessage:
    """The notification as a plain-text email in its recipient's language, with the page's link."""
    with force_locale(notification.email_locale):
        worded = render(notification.kind, notification.params)
        body = email_body(worded, notification)
    message = EmailMessage()
    message["Subject"] = worded.subject
    message["From"] = settings.sender
    message["To"] = notification.email_to
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<notification-{notification.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message.set_content(body)
    message["Content-Language"] = notification.email_locale  # after set_content, which clears Content-*
    return message


# ---------------------------------------------------------------- the outbox


def _due(now: datetime) -> Any:
    """Rows a worker may claim now: queued or retrying and due, or held by a worker past its lease."""
    return or_(
        and_(Notification.email_status.in_(("queued", "retrying")), Notification.email_next_at <= now),
        and_(Notification.email_status == "sending", Notification.email_claimed_at < now - SEND_LEASE),
    )


def _claim(notification_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, _due(now))
        .values(email_status="sending", email_claim=token, email_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if getattr(result, "rowcount", 0) == 1 else None


def _finish(notification_id: int, token: str, **values: Any) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.email_claim == token)
        .values(email_claim=None, email_claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4 ... minutes, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def deliver(notification_ids: list[int], *, now: datetime | None = None) -> int:
    """Send the due ones of ``notification_ids``, each once; how many the server accepted."""
    settings = MailSettings.from_config(current_app.config)
    if not settings.server:  # switched off since they were queued: they wait for a server
        return 0
    now = now or utcnow()
    retry_days = timedelta(days=float(current_app.config.get("MAIL_RETRY_DAYS") or 4))
    sent = 0
    with Mailer(settings) as mailer:
        for notification_id in notification_ids:
            token = _claim(notification_id, now)
            if token is None:  # sent already, not due yet, or another worker has it
                continue
            notification = db.session.get(Notification, notification_id)
            if notification is None:  # removed meanwhile (its user was deleted)
                continue
            attempts = notification.email_attempts + 1
            try:
                mailer.send(compose(notification, settings))
            except SendFailure as failure:
                gave_up = failure.permanent or now - notification.created_at >= retry_days
                log.warning(
                    "notification %s not emailed (try %d%s): %s",
                    notification_id,
                    attempts,
                    ", given up" if gave_up else "",
                    failure.text,
                )
                _finish(
                    notification_id,
                    token,
                    email_status="failed" if gave_up else "retrying",
                    email_attempts=attempts,
                    email_next_at=None if gave_up else now + backoff(attempts),
                    email_error=failure.text,
                )
                if failure.connection:
                    break  # the server is away: the sweep tries again, the others keep their turn
                continue
            except Exception as error:  # a message that cannot be worded: retried, so a fix sends it
                log.exception("notification %s could not be composed", notification_id)
                gave_up = now - notification.created_at >= retry_days
                _finish(
                    notification_id,
                    token,
                    email_status="failed" if gave_up else "retrying",
                    email_attempts=attempts,
                    email_next_at=None if gave_up else now + backoff(attempts),
                    email_error=f"{type(error).__name__}: {error}"[:300],
                )
                continue
            _finish(
                notification_id,
                token,
                email_status="sent",
                email_attempts=attempts,
                email_sent_at=now,
                email_next_at=None,
                email_error=None,
            )
            sent += 1
    return sent


def deliver_notifications(notification_ids: list[int]) -> int:
    """The ``notifications.deliver`` job: send what a committed change queued."""
    return deliver(list(notification_ids))


def sweep_outbox(now: datetime | None = None) -> int:
    """The ``notifications.sweep`` job: send what is due again (retries, lost jobs, dead workers)."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Notification.id)
            .where(_due(now))
            .order_by(Notification.email_next_at, Notification.id)
            .limit(SWEEP_BATCH)
        )
    )
    db.session.commit()
    return deliver(due, now=now) if due else 0


def purge_old_notifications(now: datetime | None = None) -> int:
    """Remove notifications older than NOTIFICATION_KEEP_DAYS whose email is settled; how many."""
    now = now or utcnow()
    days = float(current_app.config.get("NOTIFICATION_KEEP_DAYS") or 365)
    result = db.session.execute(
        delete(Notification)
        .where(
            Notification.created_at < now - timedelta(days=days),
            Notification.email_status.in_(("none", "sent", "failed")),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
