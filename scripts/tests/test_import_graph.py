"""Issue 16: layers point one way, and docs/architecture.md draws the imports the code has."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import import_graph


def test_no_selector_imports_a_service_and_no_model_imports_upwards() -> None:
    _, broken = import_graph.graph_build()
    assert broken == []


def test_the_architecture_document_draws_the_current_imports() -> None:
    edges, _ = import_graph.graph_build()
    document = (import_graph.ROOT / "docs" / "architecture.md").read_text()
    assert import_graph.mermaid(edges) in document, "paste scripts/import_graph.py's output into the document"


def test_a_selector_that_imports_a_service_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "market"
    app.mkdir()
    (app / "selectors.py").write_text("from market.services import market_snapshot_store\n")
    (app / "services.py").write_text("")
    monkeypatch.setattr(import_graph, "ROOT", tmp_path)
    _, broken = import_graph.graph_build()
    assert broken == ["market.selectors imports market.services"]
