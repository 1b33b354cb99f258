"""SentenceBank: batched best sentence pairs agree with the pairwise definition."""

from __future__ import annotations

import numpy as np

from matcher.explain import SentenceBank, Sentences, best_pair


def _unit(rng: np.random.Generator, n: int, dim: int = 8) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _bank(rng: np.random.Generator) -> tuple[SentenceBank, dict[int, Sentences]]:
    owners, fields, texts = [], [], []
    for pk, codes in {3: [0, 1, 1, 2], 5: [2, 2], 8: [0, 0], 9: [1]}.items():
        for i, code in enumerate(codes):
            owners.append(pk)
            fields.append(code)
            texts.append(f"Satz {i} von Profil {pk} (Feld {code})")
    vectors = _unit(rng, len(owners))
    bank = SentenceBank(vectors, np.array(fields, dtype=np.int8), np.array(texts, dtype=object),
                        np.array(owners, dtype=np.int64))
    return bank, {pk: bank.of(pk) for pk in (3, 5, 8, 9)}


def test_best_matches_pairwise_definition() -> None:
    rng = np.random.default_rng(7)
    bank, by_pk = _bank(rng)
    queries = _unit(rng, 3)
    qtexts = ["Bedarf A", "Bedarf B", "Bedarf C"]
    pks = [9, 3, 42, 5, 8]  # 42 has no sentences
    hits = bank.best(queries, pks)
    for i, pk in enumerate(pks):
        theirs = by_pk.get(pk, Sentences(np.zeros((0, 8), np.float32), np.zeros(0), []))
        want = best_pair((queries, qtexts), theirs.of(1, 2), "their_offer")
        got = hits.pair(i, (1, 2), bank, qtexts, "their_offer")
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert (got.need, got.offer) == (want.need, want.offer)
            assert abs(got.similarity - want.similarity) < 1e-5
        needs, offers = theirs.of(0)[0], theirs.of(1)[0]
        need_sim = float((queries @ needs.T).max()) if len(needs) else 0.0
        offer_sim = float((queries @ offers.T).max()) if len(offers) else 0.0
        assert abs(hits.rivalry(i) - max(0.0, need_sim - offer_sim)) < 1e-5


def test_your_offer_direction_quotes_their_need_first() -> None:
    rng = np.random.default_rng(1)
    bank, by_pk = _bank(rng)
    offers = _unit(rng, 2)
    hits = bank.best(offers, [8])
    pair = hits.pair(0, (0,), bank, ["Angebot X", "Angebot Y"], "your_offer")
    want = best_pair(by_pk[8].of(0), (offers, ["Angebot X", "Angebot Y"]), "your_offer")
    assert pair is not None and want is not None
    assert (pair.need, pair.offer, pair.direction) == (want.need, want.offer, "your_offer")


def test_no_queries_gives_no_pairs_and_no_rivalry() -> None:
    bank, _ = _bank(np.random.default_rng(3))
    hits = bank.best(np.zeros((0, 8), np.float32), [3, 5])
    assert hits.pair(0, (1, 2), bank, [], "their_offer") is None
    assert hits.rivalry(1) == 0.0
