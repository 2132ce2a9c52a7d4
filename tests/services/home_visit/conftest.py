"""A full gateway (build_gateway) with the default personas, at a fixed time, and request helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.app import build_gateway
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.domain.continuing_consent import Family
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_paths
from mockgateway.services.bulk import service as bulk
from mockgateway.services.home_visit.layout import consented_query_tree, patient_query_tree
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

NOW = jst(2026, 11, 23, 10, 0)
MIC = "1310112345"
OTHER_MIC = "1310000011"
SEJUTSU = "1370000018"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    g.clock.set(NOW, running=False)
    g.load(load_paths([DEFAULT_FIXTURES], g.clock.today()))
    bulk.configure(g, pace="instant")
    yield g
    g.store.close()


def card_of(g: Gateway, pid: str) -> dict[str, str]:
    person = g.index.people[pid]
    q = max(person.qualifications, key=lambda q: q.qualification_date)
    return {
        "InsurerNumber": q.insurer.number.padded,
        "InsuredCardSymbol": q.key.symbol,
        "InsuredIdentificationNumber": q.key.number,
        "InsuredBranchNumber": q.key.branch,
        "Birthdate": f"{person.birthdate:%Y%m%d}",
    }


def send(g: Gateway, api: str, tree: Tree, *, fmt: Format = Format.XML) -> Response:
    return g.process(api, xmlcodec.render("XmlMsg", tree, "Shift_JIS"), fmt=fmt, transport="test")


def requery(g: Gateway, pid: str, *, mic: str = MIC, family: Family = Family.HOME_VISIT) -> Response:
    api = "OQSsihvq01" if family is Family.HOME_VISIT else "OQSsionq01"
    return send(g, api, patient_query_tree(mic, family, card_of(g, pid)))


def consented(g: Gateway, family: Family, *, mic: str = MIC, **dates: str) -> Response:
    api = "OQSmuhvq01" if family is Family.HOME_VISIT else "OQSmuonq01"
    return send(g, api, consented_query_tree(mic, family, **dates))


def parsed(response: Response) -> Tree:
    return xmlcodec.parse(response.body).tree


def header(response: Response) -> Tree:
    node = parsed(response)["MessageHeader"]
    assert isinstance(node, dict)
    return node


def body(response: Response) -> Tree:
    node = parsed(response)["MessageBody"]
    if node == "":  # <MessageBody/>
        return {}
    assert isinstance(node, dict)
    return node


def result(response: Response) -> Tree:
    results = body(response)["ResultList"]
    assert isinstance(results, dict)
    node: Node = results["ResultOfQualificationConfirmation"]
    assert isinstance(node, dict)
    return node
