"""居宅同意取得型: 訪問診療・訪問看護・オンライン診療, 入院 and 発熱外来 (docs/home-visit.md).

layout.py     the request layouts (partly INFERRED: the only module that knows them)
book.py       the continuing-consent book (durable; fixtures' `continuing_consents:` too)
requery.py    再照会 single (OQSsihvq01 / OQSsionq01) and 閲覧同意取り消し (OQSsihvd01)
consented.py  同意済資格情報一括取得 (OQSmuhvq / OQSmuonq, two steps on the bulk machinery)
feature.py    the feature: settings, passcodes, the 医療情報 gate's view, install
admin.py      admin routes (/admin/home-visit/...)
"""

from mockgateway.services.home_visit.feature import HomeVisitFeature, feature, install

__all__ = ["HomeVisitFeature", "feature", "install"]
