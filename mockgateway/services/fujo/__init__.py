"""医療扶助 (生活保護) on the gateway: docs/fujo.md.

- `layout`: the request elements (the single query's are INFERRED, in that one module);
- `query`: 資格確認 by 公費負担者番号 + 受給者番号 on OQSsiquc01 (a hook of the eligibility service);
- `mutic`: 医療扶助の一括照会 OQSmutic01/02 on the bulk job store and worker.

The card path (マイナ保険証 of a recipient) is the face reader's, refined with `domain.fujo.refine`.
"""

from __future__ import annotations

from mockgateway.engine import Gateway
from mockgateway.services import eligibility
from mockgateway.services.bulk import service as bulk
from mockgateway.services.fujo import layout
from mockgateway.services.fujo.mutic import LAYOUT, MuticProcessor, MuticUploadService
from mockgateway.services.fujo.query import FujoQuery


def install(gateway: Gateway) -> None:
    """After eligibility and bulk."""
    service = gateway.services.get(eligibility.API_ID)
    if isinstance(service, eligibility.EligibilityService):
        service.public_assistance = (layout.claims, FujoQuery())
    if bulk.feature(gateway) is not None:
        bulk.add_family(gateway, LAYOUT, MuticProcessor(gateway), MuticUploadService)
