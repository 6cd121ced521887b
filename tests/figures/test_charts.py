"""The report page's SVG charts: drawn from the figures, and embeddable under the panel's CSP."""

from __future__ import annotations

from xml.etree import ElementTree

from admin.reports.charts import Point, bar_chart, ranked_chart, trend_chart, without_inline_styles

SVG = "{http://www.w3.org/2000/svg}"
POINTS = [
    Point(f"2026-{m:02d}", 0.7, 0.62, 0.78, f"/admin/queue?status=all&from=2026-{m:02d}-01")
    for m in range(1, 7)
]


def test_charts_carry_no_inline_style_and_keep_their_colours_and_links() -> None:
    for svg in (
        trend_chart("CSAT", POINTS, target=0.75, target_label="Цель"),
        ranked_chart("CSAT, 95% CI", POINTS),
        bar_chart("Жалобы", POINTS),
    ):
        root = ElementTree.fromstring(svg)
        assert root.tag == f"{SVG}svg"
        assert not list(root.iter(f"{SVG}style"))
        assert all("style" not in element.attrib for element in root.iter())
        fills = {element.get("fill") for element in root.iter()} - {None, "none"}
        assert len(fills) >= 2  # the colours survived as attributes
        assert "/admin/queue?status=all&amp;from=2026-03-01" in svg


def test_without_inline_styles_turns_css_into_attributes() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><style type="text/css">*{stroke-linejoin: round}'
        '</style><path style="fill: #1f77b4; stroke-width: 0.8"/><text>a style="x" b</text></svg>'
    )
    root = ElementTree.fromstring(without_inline_styles(svg))
    path = root.find(f"{SVG}path")
    assert path is not None and path.attrib == {"fill": "#1f77b4", "stroke-width": "0.8"}
    assert root.get("stroke-linejoin") == "round"
    text = root.find(f"{SVG}text")
    assert text is not None and text.text == 'a style="x" b'  # text is never touched


def test_every_linked_point_keeps_its_own_link_and_long_labels_are_cut() -> None:
    long_name = "ЦОН района имени Габита Мусрепова Северо-Казахстанской области"
    points = [*POINTS, Point(long_name, 0.5, 0.4, 0.6, "/admin/cases?office=SKO-07")]
    for svg in (trend_chart("CSAT", points), ranked_chart("CSAT, 95% CI", points)):
        root = ElementTree.fromstring(svg)
        links = [
            a.get("{http://www.w3.org/1999/xlink}href") or a.get("href")
            for a in root.iter(f"{SVG}a")
        ]
        assert sorted(links) == sorted(p.url for p in points)
    ranked = ranked_chart("CSAT, 95% CI", points)
    assert long_name not in ranked
    assert long_name[:20] in ranked and "…" in ranked
