"""Code tables (業務コード OQSCDxxx) and the overridable result-code table.

OQSCD values come from oqs-interface.md §1.5. The official 処理結果コード / ErrorCode values
(別紙6-1) are not public: `DEFAULT_RESULT_CODES` is our own documented table (docs/codes.md),
and `ResultCodes.with_overrides` lets a vendor who holds 別紙6-1 load the real values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class ReferenceClassification(StrEnum):  # OQSCD002 照会区分
    MY_NUMBER_CARD = "1"
    INSURANCE_CARD = "2"


class SegmentOfResult(StrEnum):  # OQSCD003 処理結果区分
    NORMAL = "1"
    PROCESSING = "2"
    ABNORMAL = "9"


class ProcessingResultStatus(StrEnum):  # OQSCD004 処理結果状況
    NORMAL = "1"
    ERROR = "2"


class CharacterCode(StrEnum):  # OQSCD005 文字コード識別
    UTF8 = "0"
    SHIFT_JIS = "1"


class Validity(StrEnum):  # OQSCD006 資格有効性
    VALID = "1"
    INVALID = "2"
    INVALID_NEWER_EXISTS = "3"
    NOT_FOUND = "4"
    MULTIPLE = "5"
    VALID_UNREGISTERED = "6"  # 医療扶助 only


class Sex(StrEnum):  # OQSCD007
    MALE = "1"
    FEMALE = "2"
    UNSET = "3"


class PersonalFamily(StrEnum):  # OQSCD009 本人・家族の別
    INSURED = "1"
    FAMILY = "2"


class ConsentFlag(StrEnum):  # OQSCD016 閲覧同意フラグ (OQSCD001 uses 0/1 only)
    NONE = "0"
    GIVEN = "1"
    EXPIRED = "2"  # 訪問診療等・オンライン診療等 interfaces only
    UNOBTAINABLE = "3"  # 救急 interface only


INSURED_CARD_CLASSIFICATION: Mapping[str, str] = MappingProxyType(
    {  # OQSCD010 被保険者証区分; 01 is 欠番 after 2024-12-02 but still returned for older data
        "01": "被保険者証（一般）",
        "02": "被保険者証（退職）",
        "03": "短期被保険者証（一般）",
        "04": "短期被保険者証（退職）",
        "05": "被保険者資格証明書",
        "06": "特例退職被保険者証",
        "07": "自衛官診療証",
        "A1": "医療扶助",
    }
)

LIMIT_CERTIFICATE_CLASSIFICATION: Mapping[str, str] = MappingProxyType(
    {  # OQSCD011
        "01": "限度額適用区分認定証",
        "02": "限度額適用・標準負担額減額認定証",
        "03": "標準負担額減額認定証",
    }
)

LIMIT_CERTIFICATE_FLAG: Mapping[str, str] = MappingProxyType(
    {  # OQSCD012 限度額適用認定証適用区分
        "A01": "ア", "A02": "イ", "A03": "ウ", "A04": "エ", "A05": "オ", "A06": "オ（境）",
        "B01": "現役並みⅢ", "B02": "現役並みⅡ", "B03": "現役並みⅠ", "B04": "一般",
        "B05": "低所得Ⅱ", "B06": "低所得Ⅰ", "B07": "低所得Ⅰ（老福）", "B08": "低所得Ⅰ（境）",
        "B09": "一般Ⅱ", "B10": "一般Ⅰ",
    }
)  # fmt: skip

SPECIFIC_DISEASE_CATEGORY: Mapping[str, str] = MappingProxyType(
    {  # OQSCD013
        "1": "人工透析を必要とする慢性腎不全",
        "2": "先天性血液凝固因子障害（第VIII因子、第IX因子）",
        "3": "血液凝固因子製剤の投与に起因するHIV感染症",
    }
)

REASON_OF_LOSS: Mapping[str, str] = MappingProxyType(
    {"01": "死亡", "02": "生活保護受給開始", "03": "医療保険等の資格取得", "99": "その他"}
)


@dataclass(frozen=True, slots=True)
class ResultCode:
    code: str
    message: str

    def format(self, **details: object) -> ResultCode:
        """Fill `{name}` placeholders; unknown placeholders are left as they are."""
        try:
            return ResultCode(self.code, self.message.format(**details))
        except (KeyError, IndexError, ValueError):
            return self


# Our own table. Keys are stable names used in code; codes are ours ("MGW" = mockgateway),
# grouped by hundreds: 1xxx file/transaction (ErrorCode), 2xxx per person (ProcessingResultCode),
# 3xxx notices on a normal result, 9xxx operational (faults, maintenance).
DEFAULT_RESULT_CODES: Mapping[str, ResultCode] = MappingProxyType(
    {
        "xml.malformed": ResultCode("MGW1001", "XMLとして解析できません: {detail}"),
        "xml.root": ResultCode("MGW1002", "ルート要素が XmlMsg ではありません: {detail}"),
        "xml.required": ResultCode("MGW1003", "必須項目がありません: {element}"),
        "xml.format": ResultCode("MGW1004", "項目の形式が正しくありません: {element}: {detail}"),
        "xml.check_digit": ResultCode("MGW1005", "検証番号が正しくありません: {element}: {detail}"),
        "xml.date": ResultCode("MGW1006", "日付が正しくありません: {element}: {detail}"),
        "api.unknown": ResultCode("MGW1007", "API識別IDが不明です: {detail}"),
        "xml.encoding": ResultCode("MGW1008", "文字コードが正しくありません: {detail}"),
        "file.too_large": ResultCode("MGW1009", "ファイルサイズが上限を超えています: {detail}"),
        "file.name": ResultCode("MGW1010", "ファイル名が規定の形式ではありません: {detail}"),
        "file.container": ResultCode("MGW1011", "ZIPファイルからXMLを取り出せません: {detail}"),
        "auth.token": ResultCode("MGW1101", "認証トークンが無効または期限切れです"),
        "auth.login": ResultCode("MGW1102", "ログインできません: {detail}"),
        "auth.institution": ResultCode("MGW1121", "トークンと要求の医療機関コードが異なります: {detail}"),
        "webapi.search_on_login_host": ResultCode("MGW1122", "この接続先は資格確認を提供していません: {detail}"),
        "webapi.login_on_search_host": ResultCode("MGW1123", "この接続先ではログイン(auth)できません: {detail}"),
        "bulk.not_bulk": ResultCode("MGW1201", "一括処理の要求ではありません: {element}: {detail}"),
        "bulk.too_many_records": ResultCode("MGW1202", "1ファイルの件数が上限を超えています: {element}: {detail}"),
        "bulk.unknown_reception": ResultCode("MGW1203", "受付番号が見つかりません: {detail}"),
        "bulk.expired": ResultCode("MGW1204", "受付番号の保存期間が過ぎています: {detail}"),
        "bulk.already_downloaded": ResultCode("MGW1205", "この受付番号の結果はダウンロード済みです: {detail}"),
        # 顔認証付きカードリーダー errors, when face files are written for them (docs/card.md)
        "reader.unreadable": ResultCode(
            "MGW1301", "マイナンバーカードを読み取れませんでした(カードリーダー 001): {detail}"
        ),
        "reader.not_mynumber": ResultCode(
            "MGW1302", "マイナンバーカード以外のカードです(カードリーダー 002): {detail}"
        ),
        "reader.pin_blocked": ResultCode("MGW1303", "暗証番号がロックされています: {detail}"),
        "reader.pin_wrong": ResultCode("MGW1304", "暗証番号が正しくありません: {detail}"),
        "reader.face_mismatch": ResultCode("MGW1305", "顔認証で本人確認できませんでした: {detail}"),
        "reader.no_pin": ResultCode("MGW1306", "暗証番号が設定されていないカードです: {detail}"),
        "reader.faulted": ResultCode("MGW1307", "カードリーダーが故障中です: {detail}"),
        "person.not_found": ResultCode("MGW2001", "該当する資格情報がありません"),
        "person.multiple": ResultCode("MGW2002", "該当する資格情報が複数あります"),
        "record.invalid": ResultCode("MGW2003", "照会用情報が正しくありません: {element}: {detail}"),
        "reference.invalid": ResultCode("MGW2101", "照会番号登録情報が正しくありません: {element}: {detail}"),
        "reference.not_found": ResultCode("MGW2102", "照会番号を登録する資格がありません: {detail}"),
        "reference.multiple": ResultCode("MGW2103", "照会番号を登録する資格が複数あります: {detail}"),
        # マイナ保険証: the certificate and 保険証利用登録 (docs/card.md)
        "card.certificate_invalid": ResultCode(
            "MGW2301", "利用者証明用電子証明書が失効しているか有効期限が切れています(カードリーダー 006): {detail}"
        ),
        "card.not_registered": ResultCode("MGW2302", "健康保険証としての利用登録がされていません: {detail}"),
        "card.certificate_unknown": ResultCode("MGW2303", "利用者証明用電子証明書を確認できません: {detail}"),
        # 医療情報 (YZKsiquc01 / TKKsiquc01), 災害時 (MGWdsquc01) and their notices: docs/medical.md
        "medical.not_found": ResultCode("MGW2501", "該当する資格情報がありません: {detail}"),
        "medical.multiple": ResultCode("MGW2502", "該当する資格情報が複数あります: {detail}"),
        "medical.no_consent": ResultCode("MGW2503", "閲覧同意がありません: {detail}"),
        "medical.consent_expired": ResultCode("MGW2504", "閲覧同意の有効期限が切れています: {detail}"),
        "medical.grace_period": ResultCode("MGW2505", "電子証明書の猶予期間中のため医療情報は提供できません: {detail}"),
        "medical.card_class": ResultCode("MGW2506", "この資格では医療情報は提供できません: {detail}"),
        "medical.pharmacy": ResultCode("MGW2507", "薬局では特定健診情報を閲覧できません: {detail}"),
        "medical.role": ResultCode("MGW2508", "閲覧権限がありません: {detail}"),
        "medical.range": ResultCode("MGW2509", "照会期間が正しくありません: {element}: {detail}"),
        "medical.records": ResultCode("MGW2510", "医療情報の登録データが正しくありません: {detail}"),
        "disaster.not_declared": ResultCode("MGW2601", "災害時医療情報閲覧は宣言されていません: {detail}"),
        "disaster.outside": ResultCode("MGW2602", "災害時医療情報閲覧の対象地域外です: {detail}"),
        "disaster.not_started": ResultCode("MGW2603", "災害時医療情報閲覧の期間前です: {detail}"),
        "disaster.ended": ResultCode("MGW2604", "災害時医療情報閲覧の期間は終了しました: {detail}"),
        "disaster.ambiguous": ResultCode("MGW2605", "該当する方が複数います。検索条件を追加してください: {detail}"),
        "disaster.not_found": ResultCode("MGW2606", "該当する方がいません: {detail}"),
        "disaster.consent": ResultCode("MGW2607", "本人の同意の確認が必要です: {element}: {detail}"),
        # 居宅同意取得型 (再照会, 同意済資格情報一括取得, 閲覧同意取り消し): docs/home-visit.md;
        # 資格確認限定型: docs/limited.md
        "home_visit.no_consent": ResultCode("MGW2701", "この医療機関での継続同意がありません: {detail}"),
        "home_visit.withdrawn": ResultCode("MGW2702", "継続同意は取り消されています: {detail}"),
        "home_visit.range": ResultCode("MGW1701", "期間の指定が正しくありません: {element}: {detail}"),
        "home_visit.passcode": ResultCode("MGW1702", "目視確認用パスコードが正しくありません: {detail}"),
        "home_visit.not_limited_reader": ResultCode(
            "MGW1703", "この施設の種別ではこの読み取り方法は使えません: {detail}"
        ),
        "limited.medical": ResultCode("MGW2801", "資格確認限定型の施設には医療情報は提供されません: {detail}"),
        "limited.disaster": ResultCode("MGW2802", "資格確認限定型の施設では災害時医療情報閲覧は使えません: {detail}"),
        "home_visit.lapsed": ResultCode("MGW3701", "継続同意の有効期限が切れています(閲覧同意フラグ 2): {detail}"),
        "card.expiring": ResultCode(
            "MGW3301",
            "電子証明書の有効期限が3か月以内です(有効期限 {detail})。市区町村の窓口で更新手続きをお願いします",
        ),
        "card.grace_period": ResultCode(
            "MGW3302", "電子証明書の有効期限が切れています(猶予期間 {detail} まで)。資格情報のみ提供します"
        ),
        "medical.clinical_omitted": ResultCode("MGW3501", "診療情報の閲覧同意がないため診療情報は含みません"),
        "medical.clipped": ResultCode("MGW3502", "保存期間より前の情報は提供されません: {detail}"),
        "medical.font": ResultCode("MGW9501", "PDFを作成できません(日本語フォントがありません): {detail}"),
        "fault.injected": ResultCode("MGW9001", "システムエラーが発生しました(擬似障害)"),
        "maintenance": ResultCode("MGW9002", "メンテナンス中のため処理できません"),
        "internal": ResultCode("MGW9999", "内部エラーが発生しました: {detail}"),
    }
)


class ResultCodes:
    """Lookup by stable name, with user overrides (from a YAML/JSON mapping)."""

    def __init__(self, table: Mapping[str, ResultCode] = DEFAULT_RESULT_CODES) -> None:
        self._table = dict(table)

    def get(self, name: str, **details: object) -> ResultCode:
        try:
            entry = self._table[name]
        except KeyError:
            entry = self._table["internal"]
            details = {"detail": f"未定義の結果コード名 {name}"}
        return entry.format(**details)

    def names(self) -> list[str]:
        return sorted(self._table)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, str]]) -> ResultCodes:
        """`{name: {code: ..., message: ...}}`; either key may be omitted to keep ours."""
        table = dict(self._table)
        for name, entry in overrides.items():
            base = table.get(name)
            if base is None:
                raise ValueError(f"unknown result-code name {name!r}; known: {', '.join(sorted(table))}")
            if not isinstance(entry, Mapping):
                raise ValueError(f"result code {name!r}: expected a mapping {{code, message}}, got {entry!r}")
            unknown = set(entry) - {"code", "message"}
            if unknown:
                raise ValueError(f"result code {name!r}: unknown keys {sorted(unknown)} (use code, message)")
            code, message = entry.get("code", base.code), entry.get("message", base.message)
            table[name] = ResultCode(str(code), str(message))
        return ResultCodes(table)
