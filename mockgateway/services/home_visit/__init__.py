"""居宅同意取得型: 訪問診療・訪問看護・オンライン診療, 入院 and 発熱外来 (docs/home-visit.md).

layout.py     the request layouts (partly INFERRED: the only module that knows them)
book.py       the continuing-consent book (durable; fixtures' `continuing_consents:` too)
requery.py    再照会 single (OQSsihvq01 / OQSsionq01) and 閲覧同意取り消し (OQSsihvd01)
consented.py  同意済資格情報一括取得 (OQSmuhvq / OQSmuonq, two steps on the bulk machinery)
feature.py    the feature's state: settings, the book, passcodes, the 医療情報 gate's view
admin.py      admin routes (/admin/home-visit/...)
"""

from __future__ import annotations

from mockgateway.domain.continuing_consent import Family
from mockgateway.engine import Gateway
from mockgateway.services.bulk import service as bulk
from mockgateway.services.home_visit import admin, first_visit
from mockgateway.services.home_visit.consented import ConsentedProcessor, ConsentedUploadService, layout_for
from mockgateway.services.home_visit.feature import FEATURES, HomeVisitFeature, feature
from mockgateway.services.home_visit.requery import RequeryService, WithdrawService

__all__ = ["HomeVisitFeature", "feature", "install"]


def install(gateway: Gateway) -> None:
    """After bulk and medical_service: registers the single and bulk APIs, the worker's processors,
    the 医療情報 gate's continuing-consent source and the admin routes."""
    home = HomeVisitFeature(gateway)
    FEATURES[gateway] = home
    ids = home.settings.api_ids
    gateway.register(f"{ids['requery_home_visit']}01", RequeryService(home, Family.HOME_VISIT))
    gateway.register(f"{ids['requery_online']}01", RequeryService(home, Family.ONLINE))
    gateway.register(f"{ids['withdraw']}01", WithdrawService(home, Family.HOME_VISIT, Family.ONLINE))
    machinery = bulk.feature(gateway)
    if machinery is not None:
        for key, family in (("bulk_home_visit", Family.HOME_VISIT), ("bulk_online", Family.ONLINE)):
            layout = layout_for(family, ids[key])
            machinery.worker.processors[layout.family] = ConsentedProcessor(home)
            gateway.register(f"{layout.family}01", ConsentedUploadService(machinery, layout, home, family))
            gateway.register(f"{layout.family}02", bulk.DownloadService(machinery, layout))
    try:
        from mockgateway.services.medical.service import medical_feature

        medical_feature(gateway).continuing = home.medical_consent
    except LookupError:
        pass  # no 医療情報 on this gateway
    gateway.on_reload.append(home.rebuild)
    visit = first_visit.attach(gateway, home)  # after the reader: its channel hooks
    admin.add_routes(gateway, home, visit)
