from __future__ import annotations

import pytest

from matcher.errors import MatcherError, NotFoundError
from matcher.ingest import ingest_files
from matcher.store import MIGRATIONS, Store
from tests.conftest import PROFILES


@pytest.fixture
def loaded(store, gazetteer):
    ingest_files(store, [PROFILES], gazetteer)
    return store


def test_migrations_applied_once(data_dir):
    names = [m.__name__ for m in MIGRATIONS]
    assert names[:3] == ["m001_profiles", "m002_embedding_cache", "m003_accounts_intros"]
    with Store(data_dir) as s:
        assert s.applied_migrations() == names
    with Store(data_dir) as s:
        assert s.applied_migrations() == names
        assert s.db.journal_mode == "wal"


def test_stats(loaded):
    stats = loaded.stats()
    assert stats["total"] == 20
    assert stats["by_kind"]["company"] == 9
    assert stats["by_district"]["Erzgebirgskreis"] == 3


def test_full_text_search_finds_german_words(loaded):
    ids = [pid for pid, _ in loaded.search_text("Galvanik Chrom")]
    assert ids[0] in {"t-co-07", "t-ch-02"}
    assert "t-rs-02" in ids
    assert loaded.search_text("   ") == []


def test_fts_follows_updates_and_deletes(loaded):
    assert any(pid == "t-co-06" for pid, _ in loaded.search_text("Haltbarkeit"))
    loaded.remove(["t-co-06"])
    assert not any(pid == "t-co-06" for pid, _ in loaded.search_text("Haltbarkeit"))


def test_remove_refuses_parent_with_children(loaded):
    with pytest.raises(MatcherError) as exc:
        loaded.remove(["t-ch-01"])
    assert "t-rs-01" in exc.value.message
    assert loaded.count() == 20
    assert loaded.remove(["t-ch-01"], with_children=True) == ["t-ch-01", "t-rs-01"]
    assert loaded.count() == 18


def test_remove_unknown_removes_nothing(loaded):
    with pytest.raises(NotFoundError):
        loaded.remove(["t-co-01", "gibt-es-nicht"])
    assert loaded.count() == 20


def test_import_log(loaded):
    (entry,) = loaded.import_log()
    assert entry["inserted"] == 20 and entry["status"] == "ok"


def test_transaction_rolls_back(loaded):
    with pytest.raises(RuntimeError), loaded.transaction():
        loaded.db.execute("DELETE FROM profiles")
        raise RuntimeError("Abbruch")
    assert loaded.count() == 20


def test_get_many_keeps_the_order_asked_and_leaves_out_unknown_ids(loaded):
    got = loaded.get_many(["t-rs-02", "t-co-01", "gibt-es-nicht", "t-rs-02"])
    assert [p.id for p in got] == ["t-rs-02", "t-co-01", "t-rs-02"]
    assert got[1].name == loaded.get("t-co-01").name
    assert loaded.get_many([]) == []


def test_profiles_by_category_and_by_institution(loaded):
    spaces = [p.id for _, p in loaded.iter_profiles(("offering",), category="event_space")]
    assert spaces == ["t-off-01"]
    assert [p.id for _, p in loaded.iter_profiles(("offering",))] == ["t-off-01", "t-off-02"]
    chemnitz = loaded.ids_of_institution("TU Chemnitz", ("chair", "researcher"))
    assert chemnitz and all(loaded.get(i).institution == "TU Chemnitz" for i in chemnitz)
    assert loaded.ids_of_institution("TU Chemnitz", ("company",)) == []
