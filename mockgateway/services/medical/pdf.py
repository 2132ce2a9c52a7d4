"""PDF results a person can read: 薬剤情報, 特定健診情報 and the 災害時 report (fpdf2, a Japanese font).

The real layout is not public; this one carries what the XML carries, in Japanese, with a table
per month (newest first) and a footer that says the data are synthetic. The font is the first of
`FONT_CANDIDATES` that exists (Debian's fonts-ipaexfont-gothic, installed by
scripts/setup-fonts.sh), or the one named by the `font_path` setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from mockgateway.domain.model import Person, Qualification
from mockgateway.services.medical.records import Checkup, DrugLine, DrugRecord, Procedure

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf",
    "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",
)
FOOTER = "mockgateway 模擬データ — 実在の人物・医療機関の情報ではありません"
_SEX = {"1": "男", "2": "女", "3": "未設定"}
_WIDTH = 186.0  # A4 minus 12 mm margins


class FontMissing(RuntimeError):
    pass


def find_font(configured: str | None = None) -> Path:
    candidates = (configured,) if configured else FONT_CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(
        f"{configured} がありません"
        if configured
        else "日本語フォント (fonts-ipaexfont-gothic) をインストールしてください"
    )


def _era(day: dt.date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("jp", size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{FOOTER}    {self.page_no()} / {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


class Report:
    """A4 portrait pages with a title, fact blocks, headings and tables, in one Japanese font."""

    def __init__(self, font: Path, *, title: str, now: dt.datetime) -> None:
        pdf = _Pdf(orientation="P", unit="mm", format="A4")
        pdf.set_margins(12, 12, 12)
        pdf.set_auto_page_break(True, margin=16)
        pdf.add_font("jp", fname=str(font))
        pdf.set_title(title)
        pdf.set_author("mockgateway (資格確認端末の模擬)")
        pdf.set_creation_date(now)
        pdf.alias_nb_pages()
        pdf.add_page()
        self.pdf = pdf
        pdf.set_font("jp", size=15)
        pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("jp", size=8)
        pdf.cell(0, 5, f"作成日時 {_era(now.date())} {now:%H:%M}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def facts(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Label/value pairs, two to a row."""
        rows = [(*pairs[i], *(pairs[i + 1] if i + 1 < len(pairs) else ("", ""))) for i in range(0, len(pairs), 2)]
        self.table(None, rows, (26, 67, 26, 67), size=8.5)

    def heading(self, text: str, *, size: float = 11) -> None:
        pdf = self.pdf
        if pdf.will_page_break(32):
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font("jp", size=size)
        pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT", border="B")
        pdf.ln(1)

    def note(self, text: str) -> None:
        self.pdf.set_font("jp", size=8)
        self.pdf.multi_cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")

    def table(
        self,
        headings: Sequence[str] | None,
        rows: Iterable[Sequence[str]],
        widths: Sequence[float],
        *,
        size: float = 7.5,
    ) -> None:
        pdf = self.pdf
        pdf.set_font("jp", size=size)
        style = FontFace(emphasis=None, fill_color=(225, 230, 238))
        with pdf.table(
            col_widths=tuple(widths),
            width=_WIDTH,
            headings_style=style,
            first_row_as_headings=headings is not None,
            line_height=size * 0.55,
            padding=(0.8, 1.0),
            text_align="LEFT",
        ) as table:
            for row in [headings, *rows] if headings is not None else rows:
                cells = table.row()
                for value in row:
                    cells.cell(value)
        pdf.ln(1.5)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _patient(report: Report, person: Person, extra: Sequence[tuple[str, str]]) -> None:
    report.facts(
        [
            ("氏名", person.name),
            ("カナ氏名", person.name_kana),
            ("生年月日", _era(person.birthdate)),
            ("性別", _SEX.get(person.sex1.value, person.sex1.value)),
            *extra,
        ]
    )


def _times(line: DrugLine) -> str:
    if not line.times:
        return ""
    unit = {"21": "日分", "22": "回分"}.get(line.classification or "", "")
    return f"{line.times}{unit}"


def _months(records: Iterable[DrugRecord]) -> list[tuple[str, list[DrugRecord]]]:
    by_month: dict[str, list[DrugRecord]] = {}
    for r in sorted(records, key=lambda r: (r.date, r.source.value), reverse=True):
        by_month.setdefault(r.month, []).append(r)
    return list(by_month.items())


def _month_label(month: str) -> str:
    return f"{month[:4]}年{month[4:]}月"


def drug_section(report: Report, records: Sequence[DrugRecord], *, empty: str) -> None:
    months = [(m, rs) for m, rs in _months(records) if any(r.drugs for r in rs)]
    if not months:
        report.note(empty)
    for month, month_records in months:
        report.heading(f"{_month_label(month)}　薬剤", size=10)
        rows = [
            (
                f"{r.date:%m/%d}",
                r.source.label,
                f"{r.institution_name}\n{r.institution}",
                f"{line.name}\n（{line.generic}）" if line.generic else line.name,
                f"{line.quantity or ''}{line.unit or ''}",
                "／".join(x for x in (line.usage, line.special) if x),
                _times(line),
            )
            for r in month_records
            for line in r.drugs
        ]
        report.table(("日付", "区分", "医療機関・薬局", "医薬品名（一般名）", "1日量", "用法", "日数・回数"), rows,
                     (14, 17, 40, 57, 14, 28, 16))  # fmt: skip


def clinical_section(report: Report, records: Sequence[DrugRecord], *, empty: str) -> None:
    months = [(m, rs) for m, rs in _months(records) if any(r.procedures for r in rs)]
    if not months:
        report.note(empty)
    for month, month_records in months:
        report.heading(f"{_month_label(month)}　診療", size=10)
        rows = [
            (f"{r.date:%m/%d}", f"{r.institution_name}\n{r.institution}", p.name, p.code, _qty(p), p.times or "")
            for r in month_records
            for p in r.procedures
        ]
        report.table(("日付", "医療機関", "診療行為", "コード", "数量", "回数"), rows, (14, 48, 74, 20, 15, 15))


def _qty(p: Procedure) -> str:
    return f"{p.quantity or ''}{p.unit or ''}"


def checkup_section(report: Report, checkups: Sequence[Checkup], *, empty: str) -> None:
    if not checkups:
        report.note(empty)
    for c in sorted(checkups, key=lambda c: c.date, reverse=True):
        place = f"　{c.institution_name}" if c.institution_name else ""
        report.heading(f"{c.date.year}年{c.date.month:02d}月　特定健診（実施日 {_era(c.date)}）{place}", size=10)
        rows = [(i.name, i.value_name or i.value, i.unit or "", i.code) for i in c.items]
        report.table(("項目", "結果", "単位", "項目コード"), rows, (70, 40, 30, 46))


@dataclass(frozen=True, slots=True)
class Request:
    """What the reader of the PDF should know about the request that produced it."""

    medical_institution: str
    viewer_role: str
    period: str
    now: dt.datetime
    notes: tuple[str, ...] = ()


def drug_pdf(
    font: Path,
    person: Person,
    records: Sequence[DrugRecord],
    request: Request,
    *,
    clinical: bool,
) -> bytes:
    title = "薬剤情報・診療情報" if clinical else "薬剤情報"
    report = Report(font, title=title, now=request.now)
    _patient(
        report,
        person,
        [("照会医療機関", request.medical_institution), ("閲覧者", request.viewer_role), ("照会期間", request.period)],
    )
    for line in request.notes:
        report.note(line)
    report.heading("薬剤情報")
    drug_section(report, records, empty="照会期間に薬剤情報はありません。")
    if clinical:
        report.heading("診療情報")
        clinical_section(report, records, empty="照会期間に診療情報はありません。")
    return report.output()


def checkup_pdf(font: Path, person: Person, checkups: Sequence[Checkup], request: Request) -> bytes:
    report = Report(font, title="特定健診情報", now=request.now)
    _patient(
        report,
        person,
        [("照会医療機関", request.medical_institution), ("閲覧者", request.viewer_role), ("照会期間", request.period)],
    )
    for line in request.notes:
        report.note(line)
    checkup_section(report, checkups, empty="特定健診情報はありません。")
    return report.output()


def disaster_pdf(
    font: Path,
    person: Person,
    qualification: Qualification,
    records: Sequence[DrugRecord],
    checkups: Sequence[Checkup] | None,
    request: Request,
    *,
    declaration: str,
) -> bytes:
    """災害時医療情報閲覧: 資格 (保険者番号・記号・番号・枝番, so claims need not be 不詳) and everything else."""
    report = Report(font, title="災害時医療情報（薬剤・診療・特定健診）", now=request.now)
    report.note(f"災害時医療情報閲覧: {declaration}")
    key = qualification.key
    _patient(
        report,
        person,
        [
            ("保険者番号", qualification.insurer.number.value),
            ("保険者名称", qualification.insurer.name),
            ("記号・番号", f"{key.symbol or '（記号なし）'}・{key.number}"),
            ("枝番", key.branch or "（なし）"),
            ("照会医療機関", request.medical_institution),
            ("閲覧者", request.viewer_role),
        ],
    )
    for line in request.notes:
        report.note(line)
    report.heading("薬剤情報")
    drug_section(report, records, empty="薬剤情報はありません。")
    report.heading("診療情報")
    clinical_section(report, records, empty="診療情報はありません。")
    report.heading("特定健診情報")
    if checkups is None:
        report.note("薬局では特定健診情報は表示されません。")
    else:
        checkup_section(report, checkups, empty="特定健診情報はありません。")
    return report.output()
