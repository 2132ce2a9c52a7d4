"""資格確認書 (since 2024-12-02) and the end of the 被保険者証 (oqs-interface.md §6, the 002_ seed).

- From 2024-12-02 no new 被保険者証 are issued; a 被保険者証 issued before stays usable for at most
  a year (経過措置, at the latest until 2025-12-01). People without a usable マイナ保険証 receive a
  資格確認書: same printed items (保険者番号, 記号・番号・枝番, 氏名, 生年月日 …), a validity period set
  by the insurer of **at most 5 years**, queried by its numbers like the old card.
- Whether InsuredCardClassification got a code for 資格確認書 is unconfirmed (01 became 欠番 but old
  data keep it): the code returned for a 資格確認書 is a setting (`Settings.kakunin_classification`;
  None: the qualification's own code).
"""

from __future__ import annotations

import datetime as dt

KAKUNIN = "資格確認書"
DOCUMENTS = (KAKUNIN,)  # the fixture key `document`
NO_NEW_CARDS_FROM = dt.date(2024, 12, 2)  # 健康保険証の発行終了
CARDS_LAPSE_BY = dt.date(2025, 12, 1)  # 経過措置: the last day an old 被保険者証 may be used
MAX_YEARS = 5


def validity_problem(valid_from: dt.date | None, valid_until: dt.date | None) -> str | None:
    """Why a 資格確認書's validity period is impossible, or None."""
    if valid_from is None or valid_until is None:
        return None
    if valid_until < valid_from:
        return f"有効終了 {valid_until:%Y%m%d} が有効開始 {valid_from:%Y%m%d} より前です"
    try:
        limit = valid_from.replace(year=valid_from.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = dt.date(valid_from.year + MAX_YEARS, 3, 1)
    if valid_until >= limit:
        return f"資格確認書の有効期間は5年以内です ({valid_from:%Y%m%d}〜{valid_until:%Y%m%d})"
    return None


def classification(own: str, document: str | None, override: str | None) -> str:
    """InsuredCardClassification of a result: the setting's code for a 資格確認書, else the qualification's."""
    return override if document == KAKUNIN and override else own
