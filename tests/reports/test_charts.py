"""The SVG chart module: well-formed, accessible SVG with every value readable."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from traceability.reports.charts import Series, bar_chart, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _titles(root: ElementTree.Element, tag: str) -> list[str]:
    return [element.findtext(f"{SVG}title") for element in root.iter(f"{SVG}{tag}")]


def test_a_bar_chart_is_accessible_svg_with_a_title_per_bar():
    svg = bar_chart(
        "Sản phẩm theo tỉnh",
        ["Đắk Lắk", "Nghệ An"],
        [Series("Sản phẩm", (5, 2))],
        description="Sản phẩm đã đăng ký",
        chart_id="chart-x",
    )
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-x-title chart-x-desc"
    assert root.findtext(f"{SVG}title") == "Sản phẩm theo tỉnh"
    assert root.findtext(f"{SVG}desc") == "Sản phẩm đã đăng ký"
    assert _titles(root, "rect") == ["Đắk Lắk: 5", "Nghệ An: 2"]
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert {"Đắk Lắk", "Nghệ An", "5", "2"} <= set(texts)
    assert "script" not in svg and "style=" not in svg


@pytest.mark.parametrize("horizontal", [False, True])
def test_stacked_bars_name_the_series_and_show_the_total(horizontal):
    svg = bar_chart(
        "OCOP",
        ["Thực phẩm", "Đồ uống"],
        [Series("3 sao", (2, 0)), Series("4 sao", (1, 1)), Series("5 sao", (0, 1))],
        stacked=True,
        horizontal=horizontal,
    )
    root = _parse(svg)
    assert "Thực phẩm · 4 sao: 1" in _titles(root, "rect")
    legend = [
        text.text for group in root.iter(f"{SVG}g") if group.get("class") == "chart-legend" for text in group
    ]
    assert {"3 sao", "4 sao", "5 sao"} <= set(legend)
    values = [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "chart-value"]
    assert values == ["3", "2"]  # each bar's total


def test_grouped_bars_put_series_side_by_side():
    root = _parse(bar_chart("x", ["a"], [Series("one", (1,)), Series("two", (3,))]))
    rects = [rect for rect in root.iter(f"{SVG}rect") if rect.findtext(f"{SVG}title")]
    assert len({rect.get("x") for rect in rects}) == 2


def test_a_line_chart_has_a_marker_per_point_and_spaces_its_labels():
    days = [f"{day:02d}/11/2026" for day in range(1, 31)]
    values = tuple(range(30))
    root = _parse(
        line_chart("Lượt quét", days, [Series("Lượt quét", values)], axis_labels=[d[:5] for d in days])
    )
    assert _titles(root, "circle")[3] == "04/11/2026: 3"
    assert len(list(root.iter(f"{SVG}polyline"))) == 1
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-axis-label"]
    assert labels[0] == "01/11" and 2 <= len(labels) < 30  # not every day: they would overlap


def test_text_is_escaped():
    svg = bar_chart('<b>"x" & y</b>', ["<script>alert(1)</script>"], [Series("a&b", (1,))])
    root = _parse(svg)
    assert root.findtext(f"{SVG}title") == '<b>"x" & y</b>'
    assert "<script>" not in svg


def test_all_zero_values_still_draw_an_axis():
    root = _parse(bar_chart("x", ["a", "b"], [Series("s", (0, 0))]))
    assert [rect.get("height") for rect in root.iter(f"{SVG}rect")] == ["0.0", "0.0"]


def test_nice_ticks_are_round_and_reach_the_maximum():
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(1234)[-1] >= 1234
    assert nice_ticks(0.3, whole=False) == [0, 0.1, 0.2, 0.3]


def test_long_labels_are_shortened_on_the_axis_but_whole_in_the_title():
    name = "Sản phẩm có một cái tên rất dài, dài hơn ba mươi sáu ký tự nhiều"
    root = _parse(bar_chart("x", [name], [Series("s", (1,))], horizontal=True))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-axis-label"]
    assert labels[0].endswith("…") and len(labels[0]) <= 36
    assert _titles(root, "rect") == [f"{name}: 1"]
