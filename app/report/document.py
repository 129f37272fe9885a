"""The season report as one value, rendered to HTML (Jinja2) or PDF (fpdf2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.report.charts import BarChart, to_svg
from app.report.fonts import chinese_font, latin_font
from app.report.labels import Lang, t
from app.stats.schemas import HotSpotRank, StatsSummary

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    value: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class SeasonReport:
    lang: Lang
    jurisdiction: str
    period: str
    generated: str
    zone: str
    summary: StatsSummary
    figures: list[Figure]
    response_rows: list[tuple[str, str, str, str]]
    outcome_rows: list[tuple[str, int]]
    daily: BarChart
    hourly: BarChart
    hot_spots: list[HotSpotRank]
    title: str = ""

    def text(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)


def render_html(report: SeasonReport) -> str:
    template = TEMPLATES.get_template("season.html")
    return template.render(
        r=report,
        daily_svg=to_svg(report.daily),
        hourly_svg=to_svg(report.hourly),
    )


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self.footer_text}    {self.page_no()}/{{nb}}", align="C")


def _hex(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _pdf_chart(pdf: FPDF, chart: BarChart, *, height_mm: float = 48) -> None:
    x0, width = pdf.l_margin + 8, pdf.epw - 8
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(20, 20, 20)
    pdf.cell(0, 6, chart.title, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 2
    peak = chart.top
    pdf.set_font("cjk", size=6)
    pdf.set_draw_color(210, 214, 220)
    pdf.set_line_width(0.1)
    for step in range(5):
        y = top + height_mm - height_mm * step / 4
        pdf.line(x0, y, x0 + width, y)
        pdf.set_xy(pdf.l_margin, y - 1.5)
        pdf.cell(7, 3, f"{peak * step / 4:g}", align="R")
    count = max(1, len(chart.categories))
    group = width / count
    bar = group * 0.8 / max(1, len(chart.series))
    every = max(1, -(-count // 24))
    for index, category in enumerate(chart.categories):
        for s_index, series in enumerate(chart.series):
            value = series.values[index] if index < len(series.values) else 0
            h = height_mm * value / peak if peak else 0
            if h > 0:
                pdf.set_fill_color(*_hex(series.colour))
                pdf.rect(
                    x0 + group * index + group * 0.1 + bar * s_index,
                    top + height_mm - h,
                    bar,
                    h,
                    style="F",
                )
        if index % every == 0:
            pdf.set_xy(x0 + group * index - 3, top + height_mm + 0.5)
            pdf.cell(group + 6, 3, category, align="C")
    legend_y = top + height_mm + 5
    x = x0
    for series in chart.series:
        pdf.set_fill_color(*_hex(series.colour))
        pdf.rect(x, legend_y + 0.5, 3, 3, style="F")
        pdf.set_xy(x + 4, legend_y)
        pdf.cell(30, 4, series.label)
        x += 34
    pdf.set_y(legend_y + 7)


def _pdf_table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    pdf.set_font("cjk", size=8)
    pdf.set_fill_color(232, 238, 244)
    pdf.set_draw_color(200, 205, 212)
    for text, width in zip(header, widths, strict=True):
        pdf.cell(width, 6, text, border=1, fill=True)
    pdf.ln()
    for row in rows:
        if pdf.get_y() > pdf.h - 25:
            pdf.add_page()
        for text, width in zip(row, widths, strict=True):
            pdf.cell(width, 5.5, text, border=1)
        pdf.ln()
    pdf.ln(3)


def render_pdf(report: SeasonReport) -> bytes:
    font = chinese_font()
    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_title(report.title)
    pdf.set_creator("Waterguard")
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    latin = latin_font()
    if latin is not None:
        pdf.add_font("latin", "", str(latin.path), collection_font_number=latin.index)
        pdf.set_fallback_fonts(["latin"])
    pdf.footer_text = f"{report.jurisdiction} · {report.period}"
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.set_text_color(10, 40, 80)
    pdf.cell(0, 10, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(60, 60, 60)
    meta = (
        f"{report.text('jurisdiction')}: {report.jurisdiction}    "
        f"{report.text('period')}: {report.period}    "
        f"{report.text('generated')}: {report.generated}"
    )
    pdf.cell(0, 5, meta, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, report.text("timezone_note", zone=report.zone), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    # Figure tiles: four per row.
    tile_w = pdf.epw / 4
    pdf.set_draw_color(200, 205, 212)
    for index, figure in enumerate(report.figures):
        if index % 4 == 0 and index:
            pdf.ln(18)
        x = pdf.l_margin + tile_w * (index % 4)
        y = pdf.get_y()
        pdf.rect(x + 0.5, y, tile_w - 1, 17)
        pdf.set_xy(x + 2, y + 1)
        pdf.set_font("cjk", size=7)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(tile_w - 4, 4, figure.label)
        pdf.set_xy(x + 2, y + 5.5)
        pdf.set_font("cjk", size=13)
        pdf.set_text_color(10, 40, 80)
        pdf.cell(tile_w - 4, 7, figure.value)
        if figure.hint:
            pdf.set_xy(x + 2, y + 12.5)
            pdf.set_font("cjk", size=6)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(tile_w - 4, 3.5, figure.hint)
        pdf.set_y(y)
    pdf.ln(22)
    pdf.set_text_color(20, 20, 20)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, report.text("response_times"), new_x="LMARGIN", new_y="NEXT")
    _pdf_table(
        pdf,
        ["", report.text("median"), report.text("p90"), report.text("count")],
        [list(row) for row in report.response_rows],
        [60, 40, 40, 30],
    )
    _pdf_chart(pdf, report.daily)
    _pdf_chart(pdf, report.hourly)
    if pdf.get_y() > pdf.h - 80:
        pdf.add_page()
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, report.text("hot_spots"), new_x="LMARGIN", new_y="NEXT")
    _pdf_table(
        pdf,
        [report.text(k) for k in ("rank", "place", "waterway", "persons", "minors", "peak_hour")],
        [
            [
                str(h.rank),
                h.name if h.is_listed else f"{report.text('unlisted')} {h.name}",
                h.waterway_name or "-",
                str(h.persons),
                str(h.minors),
                f"{h.peak_hour:02d}:00",
            ]
            for h in report.hot_spots
        ],
        [12, 55, 55, 20, 20, 24],
    )
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, report.text("by_outcome"), new_x="LMARGIN", new_y="NEXT")
    _pdf_table(
        pdf,
        [report.text("outcome"), report.text("incidents")],
        [[label, str(count)] for label, count in report.outcome_rows],
        [60, 30],
    )
    pdf.set_font("cjk", size=7)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 4, report.text("definitions"))
    return bytes(pdf.output())


def stamp(moment: datetime, zone_key: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + f" ({zone_key})"
