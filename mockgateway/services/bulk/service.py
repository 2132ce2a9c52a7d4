"""Two-step bulk interfaces: 資格確認一括照会 (OQSmuquc, OQS-IF-005…008) and 照会番号一括登録
(OQSmuimm, OQS-IF-009…012), oqs-interface.md §2.

    <ID>01req → <ID>01res  アップロード結果: ReceptionNumber + ReceptionDateTime, after the job is durable
    (background)          records processed at the configured pace (worker.BulkWorker)
    <ID>02req → <ID>02res  SegmentOfResult 2 while unfinished; then counts + one unit per record,
                           as XML or as a ZIP holding that XML

Every edge case has a defined answer (docs/bulk.md): unknown 受付番号, one of another 医療機関 or
of the other bulk interface, and a download before any upload are all "unknown" (MGW1205);
past retention "expired" (MGW1206); a second download returns the same result again unless
`redownload` is off (MGW1207).
"""

from __future__ import annotations

import logging
import ntpath
import time
from collections.abc import Callable, Mapping
from typing import Any

from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ResultCode, SegmentOfResult
from mockgateway.domain.model import CardKey
from mockgateway.engine import Context, Format, Gateway, Reply
from mockgateway.services import reference_numbers
from mockgateway.services.bulk import render as bulk_render
from mockgateway.services.bulk.confirm import ConfirmProcessor
from mockgateway.services.bulk.jobs import Job, JobStore, Processor, quiet_gc
from mockgateway.services.bulk.layout import (
    CONFIRM,
    REGISTRATION,
    BulkLayout,
    BulkUpload,
    confirmation_date,
    parse_download,
    parse_upload,
)
from mockgateway.services.bulk.settings import STATE_KEY, BulkSettings
from mockgateway.services.bulk.worker import BulkWorker
from mockgateway.wire import xmlcodec
from mockgateway.wire.messages import RequestError
from mockgateway.wire.results import result_header
from mockgateway.wire.xmlcodec import Node, Tree

log = logging.getLogger(__name__)


class BulkFeature:
    """The bulk machinery of one gateway: settings, durable job store, background worker."""

    def __init__(self, gateway: Gateway, *, real_time: Callable[[], float] = time.time) -> None:
        self.gateway = gateway
        self.real_time = real_time
        saved = gateway.store.get_state(STATE_KEY)
        self._overrides: dict[str, Any] = dict(saved) if isinstance(saved, Mapping) else {}
        self.settings = BulkSettings().with_changes(self._overrides)
        self.jobs = JobStore(gateway.store)
        processors: dict[str, Processor] = {
            CONFIRM.family: ConfirmProcessor(gateway, self._reference_number, self._references),
        }
        registry = reference_numbers.registry(gateway)
        if registry is not None:
            processors[REGISTRATION.family] = reference_numbers.RegistrationProcessor(gateway, registry)
        self.layouts = [layout for layout in (CONFIRM, REGISTRATION) if layout.family in processors]
        self.worker = BulkWorker(self.jobs, processors, lambda: self.settings, gateway.clock, real_time)
        self._apply_limits()

    def _reference_number(self, mic: str, key: CardKey) -> str | None:
        return reference_numbers.reference_number_for(self.gateway, mic, key)

    def _references(self, mic: str) -> dict[CardKey, str]:
        found = reference_numbers.registry(self.gateway)
        return {} if found is None else {key: number for _, key, number in found.entries(mic)}

    def configure(self, **changes: Any) -> BulkSettings:
        """Change settings now and for later restarts (kept in the store)."""
        settings = self.settings.with_changes(changes)
        overrides = {**self._overrides, **{k: str(v) if k == "pace" else v for k, v in changes.items()}}
        self.gateway.store.set_state(STATE_KEY, overrides)
        self._overrides, self.settings = overrides, settings
        self._apply_limits()
        self.worker.wake()
        return settings

    def _apply_limits(self) -> None:
        # The engine checks the request size before parsing, for every API; the bulk file-size
        # setting is that limit (bulk files are the only large requests).
        self.gateway.settings.max_request_bytes = self.settings.max_file_bytes

    def status(self, reception_number: str) -> dict[str, Any] | None:
        job = self.jobs.get(reception_number)
        if job is None:
            return None
        return {
            "ReceptionNumber": job.reception_number,
            "api": job.family,
            "MedicalInstitutionCode": job.mic,
            "ReceptionDateTime": job.accepted_at,
            "total": job.total,
            "processed": job.processed,
            "errors": job.errors,
            "done": job.done,
            "downloads": job.downloads,
            "expired": job.expired,
            "pace": str(job.pace),
        }


def _header(
    ctx: Context,
    *,
    mic: str | None,
    date: str | None,
    file_identifier: str | None,
    reception_number: str | None,
    segment: SegmentOfResult,
    error: ResultCode | None = None,
    counts: tuple[int, int, int] | None = None,
) -> Tree:
    """The 02res header ([S] QCBIDXmlMsgResponse order)."""
    header: dict[str, Node] = {
        "ProcessExecutionTime": format_timestamp(ctx.now),
        "QualificationConfirmationDate": date,
        "MedicalInstitutionCode": mic,
        "ArbitraryFileIdentifier": file_identifier,
        "ReceptionNumber": reception_number,
        "SegmentOfResult": segment.value,
        "ErrorCode": error.code if error else None,
        "ErrorMessage": error.message if error else None,
    }
    if counts is not None:
        total, normal, errors = counts
        header["NumberOfProcessingResult"] = str(total)
        header["NumberOfNormalProcessing"] = str(normal)
        header["NumberOfError"] = str(errors)
    header["CharacterCodeIdentifier"] = ctx.character_code.value
    return {k: v for k, v in header.items() if v is not None}


class UploadService:
    """<ID>01req: validate the envelope, commit the job, answer ReceptionNumber/ReceptionDateTime."""

    reference = None

    def __init__(self, feature: BulkFeature, layout: BulkLayout) -> None:
        self.feature = feature
        self.layout = layout

    def upload(self, ctx: Context, tree: Tree) -> BulkUpload:
        """The header and the records to store (a family may derive its records: OQSmutic)."""
        return parse_upload(tree, self.layout)

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        settings = self.feature.settings
        upload = self.upload(ctx, tree)
        count = len(upload.records)
        if count > settings.max_records:
            raise RequestError(
                "bulk.too_many_records",
                f"XmlMsg/MessageBody/{self.layout.record}",
                f"{count}件 (上限 {settings.max_records}件)",
            )
        mic = upload.header.medical_institution.value
        job = self.feature.jobs.create(
            family=self.layout.family,
            mic=mic,
            file_identifier=upload.header.arbitrary_file_identifier,
            confirmation_date=confirmation_date(upload.header, ctx.now.date()).strftime("%Y%m%d"),
            accepted=ctx.now,
            accepted_real=self.feature.real_time(),
            pace=settings.pace,
            records=upload.records,
        )
        self.feature.worker.wake()
        header = result_header(
            now=ctx.now,
            mic=mic,
            confirmation_date=None,
            arbitrary_file_identifier=upload.header.arbitrary_file_identifier,
            reference=None,
            segment=SegmentOfResult.NORMAL,
            error=None,
            character_code=ctx.character_code,
        )
        body: Tree = {"ReceptionNumber": job.reception_number, "ReceptionDateTime": job.accepted_at}
        return Reply(
            {"MessageHeader": header, "MessageBody": body},
            reason=f"受付 {job.reception_number}: {count}件 (pace {job.pace})",
            extra={"reception_number": job.reception_number, "bulk": "upload", "records": count},
        )

    def error_tree(self, ctx: Context, echo: dict[str, str], code: ResultCode) -> Tree:
        header = result_header(
            now=ctx.now,
            mic=echo.get("MedicalInstitutionCode"),
            confirmation_date=None,
            arbitrary_file_identifier=echo.get("ArbitraryFileIdentifier"),
            reference=None,
            segment=SegmentOfResult.ABNORMAL,
            error=code,
            character_code=ctx.character_code,
        )
        return {"MessageHeader": header, "MessageBody": {}}


class DownloadService:
    """<ID>02req: 処理中 (2), the result (1), or a defined refusal (9)."""

    reference = None

    def __init__(self, feature: BulkFeature, layout: BulkLayout) -> None:
        self.feature = feature
        self.layout = layout

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        request = parse_download(tree)
        number = request.reception_number
        mic = request.header.medical_institution.value
        extra: dict[str, Any] = {"reception_number": number, "bulk": "download"}
        job = self.feature.jobs.get(number)
        if job is None or job.mic != mic or job.family != self.layout.family:
            why = "受付番号がありません" if job is None else "この医療機関・この一括処理の受付番号ではありません"
            if job is not None and job.mic == mic:
                why = f"{job.family} の受付番号です ({self.layout.family} ではありません)"
            return self._refuse(ctx, mic, number, ctx.codes.get("bulk.unknown_reception", detail=number), why, extra)
        extra.update(processed=job.processed, total=job.total)
        retention = self.feature.settings.retention_seconds
        if job.expired or ctx.now.timestamp() - job.accepted_virtual > retention:
            if not job.expired:
                self.feature.worker.purge()
            code = ctx.codes.get("bulk.expired", detail=f"{number} (受付 {job.accepted_at})")
            return self._refuse(ctx, mic, number, code, f"保存期間 {retention:g}秒 を過ぎています", extra)
        if not job.done:
            header = self._job_header(ctx, job, SegmentOfResult.PROCESSING)
            return Reply(
                {"MessageHeader": header, "MessageBody": {}},
                segment=SegmentOfResult.PROCESSING,
                reason=f"処理中 {job.processed}/{job.total}",
                extra=extra,
            )
        if job.downloads and not self.feature.settings.redownload:
            code = ctx.codes.get("bulk.already_downloaded", detail=number)
            return self._refuse(ctx, mic, number, code, f"ダウンロード済み ({job.downloads}回)", extra)
        return self._result(ctx, job, extra)

    def _job_header(
        self, ctx: Context, job: Job, segment: SegmentOfResult, counts: tuple[int, int, int] | None = None
    ) -> Tree:
        return _header(
            ctx,
            mic=job.mic,
            date=job.confirmation_date if self.layout is CONFIRM else None,
            file_identifier=job.file_identifier,
            reception_number=job.reception_number,
            segment=segment,
            counts=counts,
        )

    def _result(self, ctx: Context, job: Job, extra: dict[str, Any]) -> Reply:
        with quiet_gc():
            return self._render_result(ctx, job, extra)

    def _render_result(self, ctx: Context, job: Job, extra: dict[str, Any]) -> Reply:
        counts = (job.total, job.total - job.errors, job.errors)
        header = self._job_header(ctx, job, SegmentOfResult.NORMAL, counts)
        encoding = ctx.gateway.settings.output_encoding
        xml = bulk_render.document(header, self.feature.jobs.result_blocks(job), encoding)
        self.feature.jobs.mark_downloaded(job)
        extra.update(downloads=job.downloads + 1, errors=job.errors)
        reason = f"結果 {job.total}件 (正常 {counts[1]}, エラー {counts[2]})"
        # The units are stored rendered; the tree carries the header only (the document is the answer).
        tree: Tree = {"MessageHeader": header, "MessageBody": {}}
        zipped = self.feature.settings.result_format == "zip"
        if ctx.fmt is Format.JSON and not zipped:
            return Reply(xmlcodec.parse(xml).tree, reason=reason, extra=extra)  # the engine renders JSON
        if not zipped:
            label = "Shift_JIS" if xmlcodec.is_shift_jis(encoding) else "UTF-8"
            media_type = f"application/xml; charset={label}"
            return Reply(tree, reason=reason, document=xml, media_type=media_type, extra=extra)
        inner = result_file_name(ctx.name, ctx.api_id, job.reception_number)
        stamp = ctx.now.timetuple()
        when = (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec)
        return Reply(
            tree,
            reason=reason,
            document=bulk_render.zip_document(inner, xml, when),
            extension=".zip",
            media_type="application/zip",
            extra={**extra, "zip_entry": inner},
        )

    def _refuse(self, ctx: Context, mic: str, number: str, code: ResultCode, why: str, extra: dict[str, Any]) -> Reply:
        header = _header(
            ctx,
            mic=mic,
            date=None,
            file_identifier=None,
            reception_number=number,
            segment=SegmentOfResult.ABNORMAL,
            error=code,
        )
        return Reply(
            {"MessageHeader": header, "MessageBody": {}},
            segment=SegmentOfResult.ABNORMAL,
            reason=why,
            extra=extra,
        )

    def error_tree(self, ctx: Context, echo: dict[str, str], code: ResultCode) -> Tree:
        header = _header(
            ctx,
            mic=echo.get("MedicalInstitutionCode"),
            date=None,
            file_identifier=echo.get("ArbitraryFileIdentifier"),
            reception_number=None,
            segment=SegmentOfResult.ABNORMAL,
            error=code,
        )
        return {"MessageHeader": header, "MessageBody": {}}


def result_file_name(name: str | None, api_id: str, reception_number: str) -> str:
    """The XML inside a ZIP result is named like the result file: the request's name with req → res
    (`OQSmuquc02req_0001.xml` → `OQSmuquc02res_0001.xml`); without a file name (HTTP),
    `<API-ID>res_<ReceptionNumber>.xml`."""
    base = ntpath.basename(name or "").rsplit("/", 1)[-1]
    marker = f"{api_id}req"
    if base.startswith(marker):
        stem = base.rsplit(".", 1)[0] if "." in base else base
        return f"{api_id}res{stem[len(marker) :]}.xml"
    return f"{api_id}res_{reception_number}.xml"


def feature(gateway: Gateway) -> BulkFeature | None:
    service = gateway.services.get(f"{CONFIRM.family}01")
    return service.feature if isinstance(service, UploadService) else None


def configure(gateway: Gateway, **changes: Any) -> BulkSettings:
    found = feature(gateway)
    if found is None:
        raise RuntimeError("bulk feature is not installed on this gateway")
    return found.configure(**changes)


def add_family(gateway: Gateway, layout: BulkLayout, processor: Processor, upload: type[UploadService]) -> None:
    """Another two-step interface on the same job store and worker (医療扶助 OQSmutic: services/fujo)."""
    found = feature(gateway)
    if found is None:
        raise RuntimeError("bulk feature is not installed on this gateway")
    found.worker.processors[layout.family] = processor
    found.layouts.append(layout)
    gateway.register(f"{layout.family}01", upload(found, layout))
    gateway.register(f"{layout.family}02", DownloadService(found, layout))


def install(gateway: Gateway) -> None:
    """Register OQSmuquc01/02 (and OQSmuimm01/02 when 照会番号 is installed) and the worker."""
    bulk = BulkFeature(gateway)
    for layout in bulk.layouts:
        gateway.register(f"{layout.family}01", UploadService(bulk, layout))
        gateway.register(f"{layout.family}02", DownloadService(bulk, layout))
    gateway.workers.append(bulk.worker)
