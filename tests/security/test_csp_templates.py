"""The templates hold nothing the Content-Security-Policy would block: no inline style or script."""

from __future__ import annotations

import re

import pytest

from traceability.core.config import PROJECT_ROOT

TEMPLATES = sorted((PROJECT_ROOT / "templates").rglob("*.html"))
BLOCKED = {
    "style attribute": re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=""", re.DOTALL),
    "<style> block": re.compile(r"<style\b", re.IGNORECASE),
    # A data block (JSON-LD) is never run, so the policy does not apply to it.
    "inline <script>": re.compile(
        r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']?application/(?:ld\+)?json)[^>]*>",
        re.IGNORECASE,
    ),
    "event handler attribute": re.compile(r"""<[a-zA-Z][^>]*\son[a-z]+\s*=""", re.DOTALL),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE),
    "asset from another site": re.compile(
        r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//"""
    ),
}


@pytest.mark.parametrize("kind", BLOCKED)
def test_no_template_uses(kind):
    pattern = BLOCKED[kind]
    offenders = [
        f"{template.relative_to(PROJECT_ROOT)}:{template.read_text().count(chr(10), 0, match.start()) + 1}"
        for template in TEMPLATES
        for match in pattern.finditer(template.read_text())
    ]
    assert not offenders, f"{kind} in {offenders}: move it to static/css/app.css (or a static script file)"


def test_the_scan_sees_the_templates():
    assert len(TEMPLATES) > 10
    assert BLOCKED["style attribute"].search('<div class="x" style="color:red">')
    assert BLOCKED["inline <script>"].search("<script>alert(1)</script>")
    assert not BLOCKED["inline <script>"].search('<script src="/static/app.js"></script>')
    assert not BLOCKED["inline <script>"].search('<script type="application/ld+json">{}</script>')
    assert BLOCKED["event handler attribute"].search('<button onclick="go()">')
    assert not BLOCKED["event handler attribute"].search('<button class="link" type="submit">')
