"""The Web API's login and search (oqs-interface.md §1.1), whatever carries the bytes.

The TLS listeners (transports/http.py) and the in-process `responses` mode (transports/inprocess.py)
differ only in how a request arrives and an answer leaves. What a login issues, when a search is
refused, how a refusal reads (SegmentOfResult 9 with ErrorCode / ErrorMessage, in JSON) and what
the journal records is decided here, once.

The login answer carries what public client models read (docs/webapi.md): `status`, `msg` and
`result` with `idToken`, `accessToken`, `refreshToken`, `linkSysCharCd` (myclinic-ts
`LoginResponse`), plus our `expiresAt`. A refused login has the same keys (empty tokens) and,
beside them, the interface's error header under `XmlMsg`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass

import orjson

from mockgateway.control.journal import JournalEntry
from mockgateway.control.tokens import TokenBook
from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ResultCode
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError
from mockgateway.engine import Format, Gateway, Response
from mockgateway.services.eligibility import API_ID as ELIGIBILITY

AUTH_PATH = "/oqs-api-pro/MSA12020/ILI12020SV01/auth"
SEARCH_PATH = "/oqs-api-pro/MSA01030/ILI01030SV01/search"
JSON = "application/json;charset=UTF-8"
# `status` of the login answer: the real values are not public (docs/webapi.md), these are ours.
LOGIN_OK = "0"
LOGIN_REFUSED = "1"


@dataclass(frozen=True, slots=True)
class Answer:
    """A JSON body and its status, or (`response`) the engine's answer, whose delay and fault
    action the transport honours in its own way."""

    status: int = 200
    body: bytes = b""
    response: Response | None = None


class WebApi:
    def __init__(self, gateway: Gateway, tokens: TokenBook, transport: str) -> None:
        self.gateway = gateway
        self.tokens = tokens
        self.transport = transport  # the journal's name for this carrier

    def login(self, raw: bytes) -> Answer:
        now = self.gateway.clock.now()
        try:
            doc = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict):
            refusal = self.gateway.codes.get("auth.login", detail="本文はJSONオブジェクトです")
            return self._refuse_login(400, refusal, raw, now)
        mic = doc.get("MedicalInstitutionCode") or doc.get("medicalInstitutionCode")
        # A token without an institution would be good for any; "garbage" is no institution either.
        try:
            if not isinstance(mic, str | int) or isinstance(mic, bool):
                raise NumberError("MedicalInstitutionCode", "医療機関コード (10桁) が必要です")
            institution = MedicalInstitutionCode.parse(str(mic)).value
        except NumberError as exc:
            why = f"MedicalInstitutionCode: {exc.detail}"
            return self._refuse_login(400, self.gateway.codes.get("auth.login", detail=why), raw, now)
        token = self.tokens.issue(now, institution)
        body = orjson.dumps(
            {
                "status": LOGIN_OK,
                "msg": "",
                "result": {
                    "idToken": token.value,
                    # Clients keep these but no public client sends them back: synthetic values.
                    "accessToken": secrets.token_urlsafe(32),
                    "refreshToken": secrets.token_urlsafe(32),
                    "linkSysCharCd": self.gateway.settings.link_system_code,
                    "expiresAt": format_timestamp(token.expires),
                },
            }
        )
        self._journal("auth", AUTH_PATH, token.medical_institution, raw, body, "1", None, now)
        return Answer(200, body)

    def search(self, raw: bytes, authorization: str | None) -> Answer:
        now = self.gateway.clock.now()
        token, why = self.tokens.check(authorization, now)
        if token is None:
            return self._refuse(401, self.gateway.codes.get("auth.token"), raw, SEARCH_PATH, now, why)
        if token.medical_institution is not None:
            sent = json_mic(raw)
            # The idToken names the 医療機関: a search may leave MedicalInstitutionCode out, but one
            # that names another institution is refused.
            if sent is not None and sent != token.medical_institution:
                why = f"トークンは医療機関コード {token.medical_institution} に発行されています (送信 {sent})"
                code = self.gateway.codes.get("auth.institution", detail=why)
                return self._refuse(403, code, raw, SEARCH_PATH, now, why)
        return Answer(
            response=self.gateway.process(
                ELIGIBILITY,
                raw,
                fmt=Format.JSON,
                transport=self.transport,
                name=SEARCH_PATH,
                institution=None if self.gateway.settings.webapi_require_institution else token.medical_institution,
            )
        )

    def wrong_host(self, path: str, raw: bytes) -> Answer:
        """A route the other host serves: the search on the login host is not there (404); the
        login on the search host is an unauthenticated request to a protected API (401)."""
        now = self.gateway.clock.now()
        if path == SEARCH_PATH:
            code = self.gateway.codes.get("webapi.search_on_login_host", detail="資格確認は検索用の接続先に送ります")
            return self._refuse(404, code, raw, path, now)
        code = self.gateway.codes.get("webapi.login_on_search_host", detail="ログインはログイン用の接続先に送ります")
        return self._refuse(401, code, raw, path, now)

    def _refuse_login(self, status: int, code: ResultCode, raw: bytes, now: dt.datetime) -> Answer:
        """A refused login in the login answer's own shape, with the interface's error header beside."""
        body = orjson.dumps(
            {
                "status": LOGIN_REFUSED,
                "msg": code.message,
                "result": {k: "" for k in ("idToken", "accessToken", "refreshToken", "linkSysCharCd", "expiresAt")},
                "XmlMsg": {"MessageHeader": _error_header(code, now)},
            }
        )
        self._journal("webapi", AUTH_PATH, json_mic(raw), raw, body, "9", code.message, now)
        return Answer(status, body)

    def _refuse(
        self, status: int, code: ResultCode, raw: bytes, name: str, now: dt.datetime, reason: str | None = None
    ) -> Answer:
        """An HTTP-level refusal still answers in the interface's own terms."""
        body = orjson.dumps({"XmlMsg": {"MessageHeader": _error_header(code, now)}})
        self._journal("webapi", name, json_mic(raw), raw, body, "9", reason or code.message, now)
        return Answer(status, body)

    def _journal(
        self, api_id: str, name: str, mic: str | None, raw: bytes, body: bytes, segment: str,
        reason: str | None, now: dt.datetime,
    ) -> None:  # fmt: skip
        self.gateway.journal.record(
            JournalEntry(
                id=0,
                at=format_timestamp(now),
                real_time=time.time(),
                transport=self.transport,
                api_id=api_id,
                name=name,
                medical_institution=mic,
                request=raw,
                response=body,
                segment=segment,
                reason=reason,
            )
        )


def _error_header(code: ResultCode, now: dt.datetime) -> dict[str, str]:
    return {
        "ProcessExecutionTime": format_timestamp(now),
        "SegmentOfResult": "9",
        "ErrorCode": code.code,
        "ErrorMessage": code.message,
    }


def json_mic(raw: bytes) -> str | None:
    """The 医療機関コード a JSON request names, if it is readable."""
    try:
        value = orjson.loads(raw)["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return str(value) if value is not None else None
