"""The composition root: builds one Gateway with every feature installed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import yaml

from mockgateway.config import Config
from mockgateway.control.answer_memo import AnswerMemo
from mockgateway.control.faults import FaultBook
from mockgateway.control.journal import Journal
from mockgateway.domain.clock import VirtualClock
from mockgateway.domain.codes import ResultCodes
from mockgateway.engine import Gateway, Settings
from mockgateway.fixtures import load_paths
from mockgateway.services import eligibility, fujo, home_visit, limited, reference_numbers
from mockgateway.services.bulk import admin as bulk_admin
from mockgateway.services.bulk import service as bulk
from mockgateway.services.medical import admin as medical_admin
from mockgateway.services.medical import disaster as medical_disaster
from mockgateway.services.medical import service as medical_service
from mockgateway.services.reader import admin as reader_admin
from mockgateway.services.reader import pcsc as reader_pcsc
from mockgateway.services.reader import session as face
from mockgateway.store.sqlite import SqliteRepository


def _install_eligibility(gateway: Gateway) -> None:
    gateway.register(eligibility.API_ID, eligibility.EligibilityService())


# Each feature contributes one `install(gateway)`; order matters only where a feature looks up
# another's service (照会番号 decorates eligibility, so it comes after it; admin routes after their feature).
FEATURES: list[Callable[[Gateway], None]] = [
    _install_eligibility,
    reference_numbers.install,  # after eligibility: sets its ReferenceNumber hook
    bulk.install,  # after reference_numbers: OQSmuimm registers through it
    fujo.install,  # 医療扶助: after eligibility (its 公費 query hook) and bulk (OQSmutic) — docs/fujo.md
    bulk_admin.install,  # after bulk: /admin/bulk/* act on its feature
    medical_service.install,  # 薬剤・診療 (YZKsiquc01) and 特定健診 (TKKsiquc01) under consent
    medical_admin.install,  # after medical_service: /admin/medical/* act on its feature
    medical_disaster.install,  # after medical_service: 災害時 card-less search (MGWdsquc01, ours)
    face.install,  # マイナ保険証: the face-auth card reader, card registry, face files (docs/card.md)
    reader_admin.install,  # after face: /admin/reader/*, /admin/cards/*
    limited.install,  # after medical_*: institution kinds; 資格確認限定型 gets no 医療情報 (docs/limited.md)
    home_visit.install,  # after bulk, medical_service: 居宅同意取得型 (docs/home-visit.md)
]


def load_codes(path: Path | None) -> ResultCodes:
    codes = ResultCodes()
    if path is None:
        return codes
    # BaseLoader keeps every scalar a string: with safe_load, `code: 0012` would become 10 (octal).
    overrides = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}
    if not isinstance(overrides, dict):
        raise ValueError(f"{path}: a mapping of result-code names to {{code, message}} is expected")
    return codes.with_overrides(overrides)


def build_gateway(config: Config, *, real_time: Callable[[], float] = time.time) -> Gateway:
    store = SqliteRepository(config.db_path)
    gateway = Gateway(
        store,
        VirtualClock(real_time),
        codes=load_codes(config.codes_file),
        settings=Settings(
            output_encoding=config.output_encoding,
            strict_insurer_padding=config.strict_insurer_padding,
            kakunin_classification=config.kakunin_classification,
            webapi_zero_padded_insurer=config.webapi_zero_padded_insurer,
            webapi_require_institution=config.webapi_require_institution,
            link_system_code=config.link_system_code,
            diseases_layout_xml=config.diseases_layout_xml,
            diseases_layout_json=config.diseases_layout_json,
            indent_files=config.indent_files,
        ),
        journal=Journal(config.journal_entries, config.journal_body_bytes, config.journal_total_bytes),
        faults=FaultBook(config.fault_seed),
        reset_clock=config.reset_clock,
    )
    gateway.memo = AnswerMemo(config.answer_memo) if config.answer_memo > 0 else None
    for install in FEATURES:
        install(gateway)
    if config.bulk:
        bulk.configure(gateway, **config.bulk)  # `serve --bulk-…`: as a PUT /admin/bulk/settings would
    reader_pcsc.install(gateway, config.root / "card-reader")  # pcscd + vpcd, started on request
    if config.folder:
        face.use_folder(gateway, config.root / "face")  # the folder transport's face/
    if store.count_people() == 0 and config.fixtures:
        gateway.load(load_paths(config.fixtures, gateway.clock.today()))
    return gateway
