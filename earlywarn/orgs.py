"""The union organisation tree and its mediation organisations (service + one pure graph helper)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import networkx as nx
import yaml
from sqlmodel import Session, select

from earlywarn.enums import OrgKind
from earlywarn.tables import MediationOrg, OrgUnit


@lru_cache
def load_reference(path: Path) -> dict:
    """The county's reference file; a malformed one stops the start-up with the file named."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data["townships"], list) and data["federation"]["name"]
        for t in data["townships"]:
            assert t["name"] and t["union"] and t["mediation_org"]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AssertionError) as exc:
        raise RuntimeError(f"reference data {path} is missing or malformed: {exc!r}") from exc
    return data


def township_names(path: Path) -> list[str]:
    return [t["name"] for t in load_reference(path)["townships"]]


def _get_or_add(session: Session, model, name: str, **values):
    row = session.exec(select(model).where(model.name == name)).first()
    if row is None:
        row = model(name=name, **values)
        session.add(row)
        session.flush()
    return row


def seed_org_tree(*, session: Session, path: Path) -> int:
    """Create the federation, township and industry unions and their mediation organisations; idempotent."""
    ref = load_reference(path)
    before = len(session.exec(select(OrgUnit.id)).all())
    root = _get_or_add(session, OrgUnit, ref["federation"]["name"], kind=OrgKind.county_federation)
    _get_or_add(session, MediationOrg, ref["federation"]["mediation_org"], org_unit_id=root.id)
    for t in ref["townships"]:
        unit = _get_or_add(session, OrgUnit, t["union"], kind=OrgKind.township_union, parent_id=root.id,
                           township=t["name"])
        _get_or_add(session, MediationOrg, t["mediation_org"], org_unit_id=unit.id)
    for ind in ref.get("industry_unions", []):
        unit = _get_or_add(session, OrgUnit, ind["name"], kind=OrgKind.industry_union, parent_id=root.id)
        if ind.get("mediation_org"):
            _get_or_add(session, MediationOrg, ind["mediation_org"], org_unit_id=unit.id)
    session.commit()
    return len(session.exec(select(OrgUnit.id)).all()) - before


def load_org_graph(*, session: Session) -> nx.DiGraph:
    """The org tree as a DiGraph parent → child; node attributes: name, kind, township."""
    graph = nx.DiGraph()
    for unit in session.exec(select(OrgUnit)):
        graph.add_node(unit.id, name=unit.name, kind=unit.kind, township=unit.township)
        if unit.parent_id is not None:
            graph.add_edge(unit.parent_id, unit.id)
    return graph


def township_unit(graph: nx.DiGraph, township: str) -> int | None:
    """Pure: the township union of a township, if the tree has one."""
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") == OrgKind.township_union and attrs.get("township") == township:
            return node
    return None
