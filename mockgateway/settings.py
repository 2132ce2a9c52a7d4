"""The settings that shape every answer (`Gateway.settings`), and the formats answers come in.

Admin routes change them at runtime; `Gateway.stamp()` reads them for the answer memo, so a new
field that changes answers belongs in that stamp too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mockgateway.control.latency import LatencyModel
from mockgateway.domain.codes import CharacterCode
from mockgateway.wire import xmlcodec


class Format(StrEnum):
    XML = "xml"
    JSON = "json"


@dataclass(slots=True)
class Settings:
    output_encoding: str = "Shift_JIS"  # or "UTF-8"; reflected in CharacterCodeIdentifier
    max_request_bytes: int = 16 * 1024 * 1024
    strict_insurer_padding: bool = True  # 6-digit 保険者番号 must be space-padded to 8 (§1.3)
    latency: LatencyModel | None = None  # realistic latency (mockgateway.control.latency); None: answer at once
    # InsuredCardClassification returned for a 資格確認書 (codes unconfirmed, oqs-interface.md §1.5/§6):
    # None keeps each qualification's own code (fixtures default 01); e.g. "08" to try a client with a new code.
    kakunin_classification: str | None = None
    # Web API only: "00" + a 6-digit 国保 number is read as that number (public clients zero-pad;
    # no 法別番号 is 00). False keeps the files' rule: spaces only (docs/webapi.md).
    webapi_zero_padded_insurer: bool = True
    link_system_code: str = "0"  # the login answer's result.linkSysCharCd (docs/webapi.md)
    # Web API: the search may leave MedicalInstitutionCode out (the idToken names the 医療機関);
    # True requires it as files do.
    webapi_require_institution: bool = False
    # 特定疾病 list layout per format: nested (List → Info*) or flat (List* / a JSON array), docs/layouts.md
    diseases_layout_xml: str = "nested"
    diseases_layout_json: str = "flat"
    indent_files: bool = True  # result and face files one element per line, as the terminal writes them

    def diseases_layout(self, fmt: Format) -> str:
        return self.diseases_layout_json if fmt is Format.JSON else self.diseases_layout_xml

    @property
    def character_code(self) -> CharacterCode:
        return _CHARACTER_CODES.get(self.output_encoding) or _character_code(self.output_encoding)


_CHARACTER_CODES: dict[str, CharacterCode] = {}


def _character_code(encoding: str) -> CharacterCode:
    code = CharacterCode.SHIFT_JIS if xmlcodec.is_shift_jis(encoding) else CharacterCode.UTF8
    _CHARACTER_CODES[encoding] = code
    return code
