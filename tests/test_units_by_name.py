"""Units by name: no page a person reads shows a UN/ECE Rec 20 code (KGM, H87) instead of its name."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from traceability.core.vocabulary import UNIT_SYMBOLS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# A record's unit code printed in a template (``batch.unit``) without the ``unit`` filter after it.
UNIT_OUTPUT = re.compile(r"\{\{[^}]*?(\b[\w.]+\.unit\b(?!\s*\|\s*unit\b))[^}]*\}\}")
# The yearly report's indicators carry their own words ("VND", "products"); a form field its choices.
NOT_A_LOT_UNIT = re.compile(r"^(indicator|form)\.unit$")  # a form field shows its choices by name


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def test_every_template_prints_a_unit_through_the_unit_filter():
    unnamed = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in UNIT_OUTPUT.finditer(path.read_text(encoding="utf-8"))
        if not NOT_A_LOT_UNIT.search(match.group(1))
    ]
    assert unnamed == []


@pytest.mark.parametrize("language", ["vi", "en"])
def test_pages_show_units_by_name(web, db, tenants, make, language):
    own = tenants["daklak"]
    product = make.product(own.producer, name="Bưởi da xanh")
    make.batch(product, lot_code="BUOI-01", unit="H87", quantity=1200)
    make.batch(product, lot_code="BUOI-02", unit="KGM", quantity=800)
    db.session.commit()
    headers = {"Accept-Language": language}
    web.login(own.staff.email)
    codes = re.compile(rf"\b({'|'.join(UNIT_SYMBOLS)})\b")
    for path in (f"/manage/products/{product.id}", "/manage", "/manage/dashboard", "/manage/worklist"):
        response = web.client.get(path, headers=headers)
        assert response.status_code == 200, path
        text = visible(response.get_data(as_text=True))
        assert not codes.findall(text), (path, codes.findall(text))
