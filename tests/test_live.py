"""Profile writes through the live matcher: validation, incremental index, atomic swaps."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from matcher.embed.hashing import HashingEmbedder
from matcher.errors import ConflictError, MatcherError, NotFoundError
from matcher.live import LiveMatcher
from matcher.profiles import RecordError, create_profile, delete_profile, update_profile
from matcher.store import Store

NEW = {"id": "t-co-neu", "kind": "company", "name": "Zwönitzer Federnwerk GmbH",
       "city": "Zwönitz", "description": "Technische Federn und Biegeteile aus Draht.",
       "needs": "Wir suchen Hilfe bei der Wasserstoffversprödung hochfester Federstähle.",
       "offers": "Federn, Drahtbiegeteile, Stanzteile."}


@pytest.fixture
def live(indexed_store, settings, gazetteer):
    lm = LiveMatcher(settings, gazetteer)
    yield lm
    lm.close()


def _ids(result) -> list[str]:
    return [m.profile.id for m in result.matches]


def test_create_is_searchable_when_the_write_returns(live, gazetteer):
    before = live.generation
    live.call("match_text", "Federnwerk Draht Biegeteile", limit=20)
    p = live.write(lambda s: create_profile(s, gazetteer, NEW))
    assert p.district == "Erzgebirgskreis"
    assert live.generation == before + 2  # first load, then the swap after the write
    assert "t-co-neu" in _ids(live.call("match_text", "Federnwerk Draht Biegeteile", limit=20))


def test_update_reembeds_only_the_changed_profile(live, gazetteer, indexed_store):
    live.call("match_text", "Galvanik")
    live.write(lambda s: update_profile(s, gazetteer, "t-co-02", {"city": "Freiberg"}))
    report = live.refresh()
    assert report is not None and report.up_to_date
    p = indexed_store.get("t-co-02")
    assert (p.city, p.district) == ("Freiberg", "Landkreis Mittelsachsen")
    assert p.name == "Erzgebirgische Drechslerei Körner e.K."  # merged, not replaced


def test_incremental_build_embeds_one_profile(indexed_store, settings, gazetteer):
    from matcher.indexer import build_index

    update_profile(indexed_store, gazetteer, "t-co-03", {"needs": "Kalibrierung von Drucksensoren"})
    report = build_index(indexed_store, settings)
    assert (report.embedded, report.incremental, report.added, report.removed) == (1, True, 1, 1)


def test_delete_removes_from_results_and_children_rule(live, gazetteer):
    assert "t-co-07" in _ids(live.call("match_text", "Galvanik", limit=20))
    with pytest.raises(MatcherError, match="zugeordnete Profile"):
        live.write(lambda s: delete_profile(s, "t-ch-01"))
    removed = live.write(lambda s: delete_profile(s, "t-co-07"), erase=True)
    assert removed == ["t-co-07"]
    assert "t-co-07" not in _ids(live.call("match_text", "Galvanik", limit=20))
    with pytest.raises(NotFoundError):
        live.write(lambda s: delete_profile(s, "t-co-07"))


@pytest.mark.parametrize("body, field", [
    ({**NEW, "kind": "raumschiff"}, "kind"),
    ({**NEW, "city": "Atlantis"}, "city"),
    ({**NEW, "email": "keine-adresse"}, "email"),
    ({**NEW, "descripton": "Tippfehler"}, "descripton"),
    ({**NEW, "parent": "t-co-99"}, "parent"),
    ({k: v for k, v in NEW.items() if k != "name"}, "name"),
])
def test_invalid_records_name_the_field_and_write_nothing(loaded_store, gazetteer, body, field):
    with pytest.raises(RecordError) as err:
        create_profile(loaded_store, gazetteer, body)
    assert f"{field}:" in err.value.message
    assert loaded_store.pk_of("t-co-neu") is None


def test_conflicts(loaded_store, gazetteer):
    with pytest.raises(ConflictError, match="gibt es schon"):
        create_profile(loaded_store, gazetteer, {**NEW, "id": "t-co-01"})
    with pytest.raises(RecordError, match="lässt sich nicht ändern"):
        update_profile(loaded_store, gazetteer, "t-co-01", {"id": "t-co-02"})
    with pytest.raises(ConflictError, match="nennt dieses Profil als parent"):
        update_profile(loaded_store, gazetteer, "t-ch-01",
                       {"kind": "company", "institution": None})
    with pytest.raises(MatcherError, match="JSON-Objekt"):
        create_profile(loaded_store, gazetteer, ["keine", "Liste"])


def test_put_replaces_and_patch_null_removes(loaded_store, gazetteer):
    update_profile(loaded_store, gazetteer, "t-co-01", {"phone": None})
    assert loaded_store.get("t-co-01").phone is None
    p = update_profile(loaded_store, gazetteer, "t-co-01", {**NEW, "id": "t-co-01"},
                       replace=True)
    assert p.name == NEW["name"] and p.email is None and p.keywords == []


class SlowEmbedder(HashingEmbedder):
    """The test embedder, slowed down like a real model (to watch reads during a write)."""

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        time.sleep(1.0)
        return super().encode_documents(texts)


def test_reads_are_answered_while_a_write_embeds(live, gazetteer):
    live.call("match_text", "Galvanik")
    live.pool._items.update(hashing=SlowEmbedder())
    writer = threading.Thread(target=live.write,
                              args=(lambda s: create_profile(s, gazetteer, NEW),))
    writer.start()
    time.sleep(0.2)
    started = time.perf_counter()
    result = live.call("match_text", "Wasserstoff Elektrolyse", limit=5)
    waited = time.perf_counter() - started
    assert writer.is_alive(), "the write should still be embedding"
    assert waited < 0.5 and result.matches
    writer.join()
    assert "t-co-neu" in _ids(live.call("match_text", "Federnwerk Draht Biegeteile", limit=20))


def test_concurrent_writes_are_folded_into_few_updates(live, gazetteer):
    live.call("match_text", "Galvanik")
    before = live.generation
    ids = [f"t-co-n{i}" for i in range(6)]
    threads = [threading.Thread(target=live.write, args=(
        lambda s, i=i: create_profile(s, gazetteer, {**NEW, "id": i}),)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert live.generation - before <= len(ids)
    found = _ids(live.call("match_text", "Federnwerk Draht Biegeteile", limit=50))
    assert set(ids) <= set(found)


def test_change_by_another_process_is_caught_up(live, gazetteer, settings):

    live.call("match_text", "Galvanik")
    with Store(settings.data_dir) as other:
        create_profile(other, gazetteer, NEW)
    live.call("match_text", "Galvanik")  # notices the commit, starts catching up
    live.wait_idle(30)
    assert "t-co-neu" in _ids(live.call("match_text", "Federnwerk Draht Biegeteile", limit=20))


def test_sparse_channel_is_updated_row_by_row_until_a_refit(indexed_store, settings, gazetteer):
    from pathlib import Path

    from matcher.index.sparse import SparseIndex
    from matcher.indexer import build_index, read_manifest
    from matcher.profiles import delete_profile as delete

    def sparse() -> SparseIndex:
        return SparseIndex.load(Path(read_manifest(indexed_store.data_dir)["path"]) / "sparse.pkl")

    vocab = sparse()._vectorizer.vocabulary_
    update_profile(indexed_store, gazetteer, "t-co-03", {"needs": "Kalibrierung mit Laser"})
    build_index(indexed_store, settings)
    after = sparse()
    assert after._vectorizer.vocabulary_ == vocab
    assert read_manifest(indexed_store.data_dir)["sparse_drift"] == 1
    row = list(after.ids).index(indexed_store.pk_of("t-co-03"))
    assert after.scores("kalibrierung laser")[row] > 0
    delete(indexed_store, "t-co-02")
    build_index(indexed_store, settings)
    assert read_manifest(indexed_store.data_dir)["sparse_drift"] == 0  # removal: full refit


def test_an_edited_profiles_query_text_is_encoded_before_it_is_served(live, gazetteer):
    live.call("match_text", "Galvanik")
    encode = live._snapshot.matcher.encode_doc
    needs = "Wir suchen Hilfe beim Entgraten von Drehteilen aus Messing."
    calls: list[str] = []
    original = encode._encode
    encode._encode = lambda text: calls.append(text) or original(text)  # type: ignore[method-assign]
    live.write(lambda s: update_profile(s, gazetteer, "t-co-02", {"needs": needs}))
    assert calls == [needs]  # during the write, before the new snapshot served anyone
    assert needs in encode._cache
    live.call("match_profile", "t-co-02")
    assert calls == [needs]  # the partner search found it cached
    live.write(lambda s: update_profile(s, gazetteer, "t-co-02", {"employees": 12}))
    assert calls == [needs]  # an edit no answer shows encodes nothing


def test_result_cache_survives_only_changes_no_answer_shows(live, gazetteer):
    first = live.call("match_text", "Galvanik", limit=5)
    docs = live._snapshot.matcher.index.docs
    live.write(lambda s: update_profile(s, gazetteer, "t-co-07", {"employees": 99}))
    assert live.call("match_text", "Galvanik", limit=5) is first  # still cached
    assert live._snapshot.matcher.index.docs is docs  # the build was re-stamped, not reloaded
    assert live._snapshot.matcher.store.get("t-co-07").employees == 99  # the snapshot sees it
    live.write(lambda s: update_profile(s, gazetteer, "t-co-07", {"name": "Galvanik Neu GmbH"}))
    again = live.call("match_text", "Galvanik", limit=5)
    assert again is not first
    assert "Galvanik Neu GmbH" in [m.profile.name for m in again.matches]


def test_deletion_by_another_process_is_erased_here_too(live, gazetteer, settings, data_dir):
    from matcher.profiles import delete_profiles

    mark = "Pflaumenmus9911"
    live.write(lambda s: create_profile(s, gazetteer, {**NEW, "needs": f"{mark} gesucht."}))
    live.call("match_profile", "t-co-neu")  # the needs text is now in the query cache
    assert any(mark in text for text in live._encoders[0]._cache)
    with Store(settings.data_dir) as other:  # like `matcher remove t-co-neu`
        assert delete_profiles(other, ["t-co-neu"]) == ["t-co-neu"]
    live.call("match_text", "Galvanik")  # notices the commit, catches up and erases
    live.wait_idle(30)
    assert not any(mark in text for text in live._encoders[0]._cache)
    assert "t-co-neu" not in _ids(live.call("match_text", "Federnwerk Draht", limit=50))
    hits = [f for f in data_dir.rglob("*") if f.is_file() and mark.lower().encode()
            in f.read_bytes().lower()]
    assert hits == []


def test_computations_run_side_by_side_and_one_answer_is_computed_once(live):
    both = threading.Barrier(2, timeout=10)

    def meet(matcher, tag):  # each of two different answers waits for the other one
        both.wait()
        return matcher.match_text("Galvanik", limit=3)

    out: dict[str, object] = {}
    threads = [threading.Thread(target=lambda t=t: out.update({t: live.call(meet, t)}))
               for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert set(out) == {"a", "b"}, "a computation waited for another one to finish"

    calls: list[int] = []
    gate = threading.Event()

    def slow(matcher):
        calls.append(1)
        gate.wait(10)
        return len(calls)

    asking = [threading.Thread(target=lambda: out.update({threading.get_ident(): live.call(slow)}))
              for _ in range(5)]
    for t in asking:
        t.start()
    time.sleep(0.3)
    gate.set()
    for t in asking:
        t.join(15)
    assert calls == [1] and {out[t.ident] for t in asking} == {1}


def test_a_swap_waits_for_running_computations(live, gazetteer):
    inside, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def long(matcher):
        inside.set()
        release.wait(10)
        seen.append(matcher.store.get(matcher.table.ids[0]).name)  # its snapshot is still open
        return True

    reader = threading.Thread(target=live.call, args=(long,), kwargs={"cached": False})
    reader.start()
    assert inside.wait(10)
    writer = threading.Thread(target=live.write,
                              args=(lambda s: create_profile(s, gazetteer, NEW),))
    writer.start()
    time.sleep(0.5)
    assert live.generation == 1, "the new snapshot was swapped in under a running computation"
    release.set()
    reader.join(10)
    writer.join(30)
    assert seen and live.generation == 2


def test_calls_with_unhashable_options_are_cached_too(live):
    from matcher.slam import SlamOptions

    first = live.call("plan", "Erzgebirgskreis", SlamOptions(size=3), slam=True)
    assert live.call("plan", "Erzgebirgskreis", SlamOptions(size=3), slam=True) is first
    assert live.call("plan", "Erzgebirgskreis", SlamOptions(size=4), slam=True) is not first


def _page(result) -> list[tuple[str, float, int]]:
    return [(m.profile.id, round(m.raw, 5), m.score) for m in result.matches] + [
        ("total", result.total, result.offset)]


@pytest.mark.parametrize("candidates", [4, 7, 120])
def test_results_kept_across_a_text_edit_equal_a_fresh_computation(
        live, gazetteer, settings, monkeypatch, candidates):
    """After edits of needs/offers texts the cache keeps only results that are still exact:
    every answer equals what a fresh Matcher on the new state computes."""
    import matcher.search as search

    monkeypatch.setattr(search, "CANDIDATES", candidates)  # small runs: cut-offs are reached
    requests = [
        ("match_text", ("Laserschweißen dünner Edelstahlbleche",), {"limit": 3}),
        ("match_text", ("Oberflächentechnik und Galvanik",), {"limit": 5}),
        ("match_text", ("Wasserstoff Elektrolyse",), {"limit": 4, "kinds": ("chair",
                                                                             "researcher")}),
        ("match_text", ("Lackierung von Holz",), {"limit": 3, "near": "Freiberg",
                                                   "radius_km": 30}),
        ("match_text", ("Künstliche Intelligenz für Messtechnik",), {"limit": 2}),
        ("match_profile", ("t-co-01",), {"limit": 4}),
        ("match_profile", ("t-co-04",), {"limit": 3}),
        ("match_profile", ("t-ch-01",), {"limit": 5, "kinds": ("company",)}),
    ]
    edits = [("t-co-06", {"needs": "Wir suchen ein Labor für Sauerteig-Mikrobiologie."}),
             ("t-co-02", {"offers": "Laserschweißen dünner Edelstahlbleche ohne Verzug."}),
             ("t-rs-02", {"description": "Forschung zu Brotteig und Backwaren."}),
             ("t-co-05", {"keywords": ["Elektrolyse", "Wasserstoff", "Galvanik"]}),
             ("t-co-07", {"needs": "Wir brauchen Hilfe bei Holzlackierung."})]
    kept = dropped = 0
    for pid, change in edits:
        cached = {i: live.call(name, *args, **kw) for i, (name, args, kw) in enumerate(requests)}
        live.write(lambda s, pid=pid, change=change: update_profile(s, gazetteer, pid, change))
        fresh_matcher = search.Matcher(live._snapshot.matcher.store, settings, gazetteer,
                                       live._snapshot.matcher.index,
                                       encoders=live._query_encoders())
        for i, (name, args, kw) in enumerate(requests):
            now = live.call(name, *args, **kw)
            kept += now is cached[i]
            dropped += now is not cached[i]
            assert _page(now) == _page(getattr(fresh_matcher, name)(*args, **kw)), (pid, i)
    if candidates < 120:  # with full runs both outcomes occur
        assert kept and dropped


def test_unaffected_checks_both_channels_and_the_filters(indexed_store, settings, gazetteer):
    from matcher.filters import Filters
    from matcher.search import Matcher, Reach

    m = Matcher(indexed_store, settings, gazetteer)
    qvec = m.encode_doc("Laserschweißen")
    pk = m.table.pks[m.table.pos["t-co-02"]]
    dense = float(m.index.docs.vectors(np.array([pk]))[0] @ qvec)
    row = int(m._sparse_at[m.table.pos["t-co-02"]])
    keyword = float(m.index.sparse.scores("laserschweißen")[row])

    def reach(dense_cut, sparse_cut, filters=None, ids=frozenset()):
        return Reach(ids, qvec, (("laserschweißen", 1.0),), filters or Filters(), dense_cut,
                     sparse_cut)

    assert m.unaffected(reach(dense + 0.01, keyword + 0.01), ["t-co-02"])
    assert not m.unaffected(reach(dense - 0.01, keyword + 0.01), ["t-co-02"])  # enters dense
    assert not m.unaffected(reach(dense + 0.01, keyword - 0.01), ["t-co-02"])  # enters sparse
    assert not m.unaffected(reach(dense + 0.01, keyword + 0.01, ids=frozenset({"t-co-02"})),
                            ["t-co-02"])  # was scored
    assert m.unaffected(reach(-np.inf, -np.inf, Filters(kinds=("chair",))), ["t-co-02"])
    assert not m.unaffected(reach(dense + 0.01, keyword + 0.01), ["t-co-neu"])  # unknown
    # checked together, each reach gets its own answer
    reaches = [reach(dense + 0.01, keyword + 0.01), reach(dense - 0.01, keyword + 0.01),
               reach(dense + 0.01, keyword - 0.01),
               reach(-np.inf, -np.inf, Filters(kinds=("chair",)))]
    assert m.unaffected_many(reaches, ["t-co-02"]) == [True, False, False, True]
    assert m.unaffected_many(reaches, ["t-co-neu"]) == [False] * 4
    assert m.unaffected_many([], ["t-co-02"]) == []


def test_prepare_writes_loads_the_document_embedders(live, settings):
    from matcher.indexer import document_backends

    assert live.pool._items == {}
    with Store(settings.data_dir) as store:
        before = (store.corpus_digest(), store.db.execute("SELECT COUNT(*) FROM embeddings")
                  .fetchone()[0])
    live.prepare_writes()
    assert set(live.pool._items) == set(document_backends(settings))
    with Store(settings.data_dir) as store:  # the warm-up call stores nothing
        assert (store.corpus_digest(), store.db.execute("SELECT COUNT(*) FROM embeddings")
                .fetchone()[0]) == before
    both = settings.replace(embedder="e5+use", sentence_embedder="use")
    assert document_backends(both) == ["e5", "use"]


def test_a_failed_first_answer_leaves_no_one_waiting(loaded_store, settings, gazetteer):
    from matcher.errors import IndexStateError
    from matcher.indexer import build_index

    lm = LiveMatcher(settings, gazetteer)  # the store has no index yet
    try:
        with pytest.raises(IndexStateError):
            lm.call("match_text", "Galvanik")
        build_index(loaded_store, settings)
        done: list[object] = []
        asking = threading.Thread(target=lambda: done.append(lm.call("match_text", "Galvanik")))
        asking.start()
        asking.join(20)
        assert done and done[0].matches, "the same request waited for a computation that failed"
    finally:
        lm.close()


def test_a_call_inside_a_computation_keeps_its_slot(live):
    def inner(matcher):
        return matcher.match_text("Galvanik", limit=2)

    def outer(matcher):  # with every slot taken by outer calls, inner ones must not wait
        both.wait()
        return live.call(inner, cached=False)

    both = threading.Barrier(2, timeout=10)
    out: list[object] = []
    threads = [threading.Thread(target=lambda: out.append(live.call(outer, cached=False)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(out) == 2


def test_lineups_carried_over_a_text_edit_equal_a_fresh_plan(live, gazetteer, settings):
    """A text edit of a non-researcher keeps the line-ups it provably cannot change (none of
    the edited profile's region, none whose themes move); every line-up after the edit equals
    one a fresh planner makes on the new state."""
    from matcher.districts import DISTRICTS
    from matcher.search import Matcher
    from matcher.slam import SlamOptions, SlamPlanner

    regions = [d.name for d in DISTRICTS]
    edits = [("t-co-04", {"employees": 99}, "all"),  # the planner after it keeps them too
             ("t-co-06", {"needs": "Wir suchen ein Labor für Sauerteig-Mikrobiologie."}, "some"),
             ("t-ch-01", {"description": "Lehrstuhl für Fügetechnik und Laserschweißen."}, "some"),
             ("t-co-02", {"offers": "Drechseln, Lackieren und Beizen von Holz."}, "some"),
             ("t-rs-02", {"description": "Forschung zu Brotteig und Backwaren."}, "none")]
    for pid, change, expect in edits:
        before = {r: live.call("plan", r, SlamOptions(), slam=True) for r in regions}
        region_of_edit = {r for r, lineup in before.items()
                          if any(pid in t.smes for t in lineup.themes)}
        live.write(lambda s, pid=pid, change=change: update_profile(s, gazetteer, pid, change))
        snap = live._snapshot
        fresh = SlamPlanner(Matcher(snap.matcher.store, settings, gazetteer, snap.matcher.index,
                                    encoders=live._query_encoders()))
        kept = set()
        for r in regions:
            now = live.call("plan", r, SlamOptions(), slam=True)
            assert now.as_dict() == fresh.plan(r, SlamOptions()).as_dict(), (pid, r)
            if now is before[r]:
                kept.add(r)
        if expect == "all":
            assert kept == set(regions), pid
        elif expect == "some":
            assert kept and not kept & region_of_edit, pid
        else:
            assert not kept, pid


def test_a_changed_theme_label_is_not_carried_over(indexed_store, settings, gazetteer):
    """When an edit elsewhere moves a region's theme labels, its line-up is made anew."""
    from matcher.search import Matcher
    from matcher.slam import SlamOptions, SlamPlanner

    old = SlamPlanner(Matcher(indexed_store, settings, gazetteer))
    lineup = old.plan("Erzgebirgskreis", SlamOptions())
    new = SlamPlanner(Matcher(indexed_store, settings, gazetteer))
    new.inherit(old, ["t-co-06"])
    assert new.plan("Erzgebirgskreis", SlamOptions()) is lineup
    new2 = SlamPlanner(Matcher(indexed_store, settings, gazetteer))
    new2.inherit(old, ["t-co-06"])
    themes, moved = lineup.themes, [*lineup.themes]
    moved[0] = type(themes[0])(**{**themes[0].__dict__, "label": "Anderes Thema"})
    new2._demand[(repr(lineup.region), False)] = (*new2.demand(lineup.region)[:2], moved)
    assert new2.plan("Erzgebirgskreis", SlamOptions()) is not lineup
