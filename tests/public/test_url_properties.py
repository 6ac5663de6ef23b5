"""Property-based tests of the public URLs: whatever a scanner or a person types, an answer, never a 500.

tests/gs1/test_properties.py covers parsing Digital Links themselves; these
send arbitrary text through the routes that take text from the URL (the
resolver, short codes, problem reports, product pages, media, the language
switch) on the real app, signed out as a consumer is.
"""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# Segments as they arrive: any text, percent-encoded the way a browser sends it,
# and raw characters that browsers send as they are.
segments = st.one_of(
    st.text(max_size=60).map(lambda text: quote(text, safe="")),
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZabcxyz-._~!$&'()*+,;=:@%/", max_size=60),
)
PUBLIC = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _answered(client, path: str) -> None:
    response = client.get(path)
    response.close()
    assert response.status_code < 500, f"{response.status_code} for {path!r}"


@PUBLIC
@given(path=segments)
@example(path="09506000134352/10/LOT%00")
@example(path="09506000134352/10/" + "9" * 5000)
@example(path="%E0%A5%A6%E0%A5%A7/10/A")  # Devanagari digits as a GTIN
@example(path="09506000134352/10/LOT/21/%FF%FE")  # not UTF-8
def test_digital_link_paths_get_an_answer(client, path):
    _answered(client, f"/01/{path}")


@PUBLIC
@given(code=segments)
@example(code="%00")
@example(code="x" * 10_000)
def test_short_codes_and_problem_report_codes_get_an_answer(client, code):
    _answered(client, f"/t/{code}")
    _answered(client, f"/report/{code}")


@PUBLIC
@given(product_id=st.integers(min_value=0, max_value=10**12), slug=segments)
def test_product_pages_get_an_answer(client, product_id, slug):
    _answered(client, f"/products/{product_id}")
    _answered(client, f"/products/{product_id}-{slug}")


@PUBLIC
@given(name=segments)
@example(name="..%2F..%2Fconfig.py")
def test_media_names_and_languages_get_an_answer(client, name):
    _answered(client, f"/media/{name}")
    _answered(client, f"/lang/{name}/page")
