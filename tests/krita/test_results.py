"""What the Krita plug-in remembers of each document's last result (pure Python, no Krita needed): Add to
Subject and Subtract from Subject correct it only when it came from the same source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "krita"))
from softcut_krita.results import Inserted, LastResults


class Doc:
    """A stand-in for Krita's Document wrappers: made afresh on each call, equal when they wrap the same document."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Doc) and other.name == self.name

    __hash__ = None  # Krita's are unhashable too


def made(doc: str, result: str, **fields) -> Inserted:
    return Inserted(Doc(doc), "selection", (0, 0, 8, 6), result, **fields)


def test_each_document_keeps_its_own_last_result():
    results = LastResults()
    results.remember(made("a", "r1"))
    results.remember(made("b", "r2"))
    results.remember(made("a", "r3"))
    assert results.of(Doc("a")).result_id == "r3"
    assert results.of(Doc("b")).result_id == "r2"
    assert results.of(Doc("c")) is None


def test_the_oldest_documents_are_let_go():
    results = LastResults(kept=2)
    for name in "abc":
        results.remember(made(name, f"r-{name}"))
    assert results.of(Doc("a")) is None and results.of(Doc("c")).result_id == "r-c"
    results.remember(made("b", "r-b2"))  # remembering again makes it the latest
    results.remember(made("d", "r-d"))
    assert results.of(Doc("c")) is None and results.of(Doc("b")).result_id == "r-b2"
    with pytest.raises(ValueError, match="kept"):
        LastResults(kept=0)


def test_a_result_is_of_the_same_source_only_from_the_same_layer_at_the_same_place():
    layer = made("a", "r1", source_id="layer-1")
    assert layer.same_source("layer-1", (0, 0, 8, 6))
    assert not layer.same_source("layer-1", (1, 0, 8, 6)), "the layer moved"
    assert not layer.same_source("layer-2", (0, 0, 8, 6))
    assert not layer.same_source(None, (0, 0, 8, 6)), "the merged image is another source"
    assert made("a", "r2").same_source(None, [0, 0, 8, 6])
