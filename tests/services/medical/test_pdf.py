"""PDF results: real PDFs a person can read (Japanese text, a table per month), rendered to an image."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from mockgateway.app import build_gateway
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_paths
from mockgateway.services.medical import pdf as medical_pdf
from mockgateway.services.medical.client import medical_request
from mockgateway.services.medical.service import CHECKUP_API, DRUG_API, medical_feature
from mockgateway.wire import xmlcodec

MIC = "1310112345"

needs_font = pytest.mark.skipif(
    not any(Path(p).is_file() for p in medical_pdf.FONT_CANDIDATES),
    reason="no Japanese font installed: run scripts/setup-fonts.sh (fonts-ipaexfont-gothic)",
)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    g.clock.set(jst(2026, 11, 23, 10, 0), running=False)
    g.load(load_paths([DEFAULT_FIXTURES], g.clock.today()))
    for pid in ("hoken-taro", "kokuho-ichiro"):
        for kind in ConsentKind:
            g.consents.record(Consent(pid, MIC, kind, ConsentFlag.GIVEN, g.clock.now()))
    yield g
    g.store.close()


def ask(g: Gateway, pid: str, api: str = DRUG_API, category: str = "1") -> Response:
    card = max(g.index.people[pid].qualifications, key=lambda q: q.qualification_date)
    body = medical_request(card, medical_institution=MIC, file_category=category)
    return g.process(api, body, fmt=Format.XML, transport="test")


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


@needs_font
def test_drug_pdf_reads_as_japanese_with_a_table_per_month(gateway: Gateway) -> None:
    response = ask(gateway, "hoken-taro")
    assert (response.extension, response.media_type) == (".pdf", "application/pdf")
    assert response.body.startswith(b"%PDF-")
    text = text_of(response.body)
    for expected in ("薬剤情報", "保険　太郎", "ﾎｹﾝ ﾀﾛｳ", "1980年04月01日", "照会医療機関", "1310112345",
                     "カンデサルタン錠８ｍｇ「模擬」", "カンデサルタン　シレキセチル", "模擬薬局　本町店", "電子処方箋",
                     "調剤結果", "レセプト", "28日分", "2023/11/23〜2026/11/23", "実在の人物"):  # fmt: skip
        assert expected in text, expected
    assert "レバミピド" not in text  # beyond 3 years
    assert "再診料" not in text  # 診療情報 only with FileCategory 3
    months = re.findall(r"(\d{4})年(\d{2})月\s*薬剤", text)
    assert months == [("2026", "11"), ("2026", "09"), ("2023", "12")]  # newest first, one table each


@needs_font
def test_drug_and_clinical_pdf_has_both_sections(gateway: Gateway) -> None:
    text = text_of(ask(gateway, "hoken-taro", category="3").body)
    assert "薬剤情報・診療情報" in text
    assert re.search(r"2026年09月\s*診療", text)
    assert "生化学的検査（１）（１０項目以上）" in text


@needs_font
def test_checkup_pdf(gateway: Gateway) -> None:
    text = text_of(ask(gateway, "kokuho-ichiro", CHECKUP_API).body)
    assert "特定健診情報" in text
    assert "国保　一郎" in text
    assert re.search(r"2026年07月\s*特定健診（実施日 2026年07月17日）", text)
    assert "ＨｂＡ１ｃ（ＮＧＳＰ値）" in text
    assert "2021年07月" not in text  # more than 5 years ago


@needs_font
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_a_page_renders_to_an_image(gateway: Gateway, tmp_path: Path) -> None:
    pdf = tmp_path / "yzk.pdf"
    pdf.write_bytes(ask(gateway, "kokuho-ichiro", category="3").body)
    pages = len(PdfReader(pdf).pages)
    assert pages > 3  # six years of synthetic history, three of them viewable
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)  # fmt: skip
    image = next(tmp_path.glob("page*.png"))
    data = image.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 20_000  # text and table lines, not a blank page


def test_without_a_font_the_answer_says_so(gateway: Gateway, tmp_path: Path) -> None:
    medical_feature(gateway).update_settings({"font_path": str(tmp_path / "missing.ttf")})
    response = ask(gateway, "hoken-taro")
    assert response.extension == ".xml"
    header = xmlcodec.parse(response.body).tree["MessageHeader"]
    assert isinstance(header, dict)
    assert header["ResultCode"] == "2"
    assert str(header["MessageContents"]).startswith("MGW9501")


def test_font_lookup_prefers_the_setting() -> None:
    with pytest.raises(medical_pdf.FontMissing, match=r"nope\.ttf"):
        medical_pdf.find_font("/nope.ttf")
