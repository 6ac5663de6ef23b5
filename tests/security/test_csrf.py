"""CSRF: every state-changing form carries a token, and every state-changing route demands one."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.routing.converters import NumberConverter

from traceability.core.config import PROJECT_ROOT

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
FORM_BLOCK = re.compile(r"<form\b(?P<attributes>[^>]*)>(?P<body>.*?)</form>", re.IGNORECASE | re.DOTALL)
POST_METHOD = re.compile(r"""method\s*=\s*["']?post""", re.IGNORECASE)
TOKEN_IN_TEMPLATE = re.compile(r"hidden_tag\(\)|csrf_token")
DOWNLOADS = (".png", ".svg", ".pdf", ".csv", ".xlsx", ".json", ".jsonld")


def test_every_post_form_in_the_templates_has_a_csrf_token():
    missing = []
    for template in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        source = template.read_text()
        for match in FORM_BLOCK.finditer(source):
            if POST_METHOD.search(match["attributes"]) and not TOKEN_IN_TEMPLATE.search(match["body"]):
                line = source.count("\n", 0, match.start()) + 1
                missing.append(f"{template.relative_to(PROJECT_ROOT)}:{line}")
    assert not missing, f"POST forms without csrf_token or form.hidden_tag(): {missing}"
    assert len(list((PROJECT_ROOT / "templates").rglob("*.html"))) > 10  # the scan saw the templates


def _sample_url(app, rule) -> str:
    """A URL this rule matches, with sample values for its variables."""
    values = {}
    for name, converter in rule._converters.items():
        if hasattr(converter, "items"):  # any(a, b): one of its values
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, NumberConverter):  # int (the app's IdConverter) and float
            values[name] = 1
        else:
            values[name] = "x"
    adapter = app.url_map.bind("localhost")
    method = sorted((rule.methods or set()) & STATE_CHANGING)[0]
    url = adapter.build(rule.endpoint, values, method=method)
    assert adapter.match(url, method=method)[0] == rule.endpoint, f"no sample URL for {rule.rule}"
    return url


def test_every_state_changing_web_route_refuses_a_request_without_a_token(app, web, tenants):
    web.login(tenants["daklak"].admin.email)
    checked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & STATE_CHANGING
        if not methods or rule.endpoint.startswith(("api.", "epcis.")):
            continue  # bearer tokens only: see the test below
        url = _sample_url(app, rule)
        for method in sorted(methods):
            response = web.client.open(url, method=method, data={"anything": "1"})
            assert response.status_code == 400, f"{method} {url} ({rule.endpoint}) without a CSRF token"
            checked.append(rule.endpoint)
    assert {"accounts.login", "accounts.logout", "accounts.users.reset_password"} <= set(checked)


def test_the_api_is_exempt_because_a_browser_session_never_authorises_it(web, tenants):
    """The API skips CSRF: it reads only bearer tokens, so a forged cross-site request has no credentials."""
    web.login(tenants["daklak"].staff.email)
    response = web.client.post("/api/v1/producers", json={"name": "Giả mạo"})
    assert response.status_code == 401
    # The EPCIS 2.0 binding too: a signed-in browser's session captures nothing.
    capture = web.client.post("/epcis/capture", json={"type": "EPCISDocument"})
    assert capture.status_code == 401


class _PageParser(HTMLParser):
    """The forms (method, token) and the links of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (attributes.get("method") or "get").lower(),
                    "action": attributes.get("action"),
                    "token": None,
                }
            )
        elif tag == "input" and self.forms and (attributes.get("name") or "").endswith("csrf_token"):
            # A prefixed form names it "prefix-csrf_token"; Flask-WTF accepts any name ending so.
            self.forms[-1]["token"] = attributes.get("value")
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def _crawl(client, start: list[str], limit: int = 120) -> tuple[int, list[str], list[str]]:
    """Visit the site's pages from ``start`` (same site, no downloads); return pages, forms, and offenders."""
    queue, seen, forms, offenders = list(start), set(start), [], []
    pages = 0
    while queue and pages < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        pages += 1
        parser = _PageParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            if form["method"] == "post":
                forms.append(f"{url} -> {form['action']}")
                if not form["token"]:
                    offenders.append(f"{url} -> {form['action']}")
        for href in parser.links:
            target = urlsplit(urljoin(url, href))
            if target.netloc not in ("", "localhost") or not target.path.startswith(("/manage", "/products")):
                continue
            if target.path.endswith(DOWNLOADS) or "/logout" in target.path:
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return pages, forms, offenders


@pytest.mark.parametrize("who", ["centre_admin", "producer_admin"])
def test_every_post_form_rendered_for_a_user_carries_a_token(web, make, db, tenants, who):
    own = tenants["daklak"]
    if who == "centre_admin":
        user = own.admin
    else:
        user = make.user("producer", producer=own.producer, is_producer_admin=True)
    db.session.commit()
    web.login(user.email)
    pages, forms, offenders = _crawl(web.client, ["/", "/manage"])
    assert pages >= 8, f"the crawl saw only {pages} pages"
    assert len(forms) >= 5
    assert not offenders, f"POST forms rendered without a CSRF token: {offenders}"
