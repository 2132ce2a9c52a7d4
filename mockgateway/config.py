"""Gateway configuration: defaults that run out of the box, overridable by CLI flags or a YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mockgateway.resources import default_personas

DEFAULT_FIXTURES = default_personas()


@dataclass(slots=True)
class Config:
    root: Path = Path("var/oqs")  # folder transport root: req/, res/, face/, trash/
    db: Path | None = None  # default: <root>/mockgateway.sqlite3
    fixtures: list[Path] = field(default_factory=lambda: [DEFAULT_FIXTURES])
    host: str = "127.0.0.1"
    http_port: int = 8080  # convenience route /oqs/{API_ID}, admin API /admin/*
    tls_port: int | None = 8443  # Web API login host (client-certificate TLS); None/0 disables the Web API over TLS
    search_port: int | None = None  # Web API search host (server certificate only); default: tls_port + 1
    webapi_plain: bool = False  # also serve the Web API on the plain HTTP port (no client cert)
    pki_dir: Path | None = None  # default: <root>/pki (created on first start)
    output_encoding: str = "Shift_JIS"
    strict_insurer_padding: bool = True
    kakunin_classification: str | None = None  # InsuredCardClassification for a 資格確認書 (unconfirmed; docs/card.md)
    webapi_zero_padded_insurer: bool = True  # Web API: "00" + 6 digits is a 6-digit 国保 number (docs/webapi.md)
    webapi_require_institution: bool = False  # Web API search must name MedicalInstitutionCode (default: the token's)
    link_system_code: str = "0"  # the login answer's result.linkSysCharCd
    diseases_layout_xml: str = "nested"  # SpecificDiseasesCertificateList in files and HTTP XML (docs/layouts.md)
    diseases_layout_json: str = "flat"  # … in the Web API's JSON
    indent_files: bool = True  # result and face files indented, one element per line (False: --compact)
    gc_full_every: float = 3600.0  # seconds between full cycle collections while serving (mockgateway/gc_pauses.py)
    answer_memo: int = 16_384  # whole 資格確認 answers remembered per exact request (0: none; control/answer_memo.py)
    codes_file: Path | None = None  # overrides for ErrorCode / ProcessingResultCode (YAML)
    admin_token: str | None = None  # default: generated and written to <root>/admin-token
    journal_entries: int = 10_000
    journal_body_bytes: int = 64 * 1024
    journal_total_bytes: int = 256 * 1024 * 1024  # all bodies together (mockgateway.control.journal)
    reset_clock: bool = False  # forget the saved virtual clock (`serve --reset-clock`)
    trash_retention_days: float = 7.0  # trash/ files older than this are deleted; 0 keeps them forever
    token_ttl_seconds: int = 3600
    folder: bool = True
    poll_interval: float = 0.2  # seconds, for the polling fallback when inotify is unavailable
    settle_seconds: float = 2.0  # unchanged this long, a listed file nobody can vouch for is taken (docs/folder.md)
    fault_seed: int | None = None
    latency: str = "off"  # realistic latency: off, realistic, or MEDIAN_MS:P99_MS (mockgateway.control.latency)
    bulk: dict[str, str] = field(default_factory=dict)  # bulk settings to set at start (docs/bulk.md)
    reports_dir: Path | None = None  # harness reports the console lists; default: <root>/reports
    harness_config: Path | None = None  # harness settings (TOML) for runs started from the console
    workers: int = 1  # processes serving the plain-HTTP hot path (mockgateway.scaleout); 1: one process

    @property
    def db_path(self) -> Path:
        return self.db or self.root / "mockgateway.sqlite3"

    @property
    def search_tls_port(self) -> int | None:
        """The search host's port: next to the login port unless set; none without the login host."""
        if not self.tls_port:
            return None
        return self.search_port or self.tls_port + 1

    @property
    def reports_path(self) -> Path:
        return self.reports_dir or self.root / "reports"

    @property
    def pki_path(self) -> Path:
        return self.pki_dir or self.root / "pki"
