"""The Matcher: "who is near you and relevant", for a free-text request or for a profile.

Candidates come from the hybrid retrieval (dense + sparse); they are re-ranked by topical fit,
needs ↔ offers sentence matching, a distance decay, kind complementarity and per-organisation
diversity, scored 0–100 and explained in German.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.clients import ClientFinder, names_digest, without_name
from matcher.errors import MatcherError, NotFoundError
from matcher.explain import (
    Explanation,
    Pair,
    SentenceBank,
    Sentences,
    finite_or_zero,
    shared_terms,
)
from matcher.feedback import Families, feedback_vector, mixed_query
from matcher.filters import Filters, ProfileTable
from matcher.geo import Gazetteer, distances_km, load_gazetteer
from matcher.indexer import LoadedIndex, expected_models, load_index
from matcher.models import Profile
from matcher.privacy import public_record, visible_to
from matcher.query import ParsedQuery, parse_query
from matcher.regions import find_region
from matcher.retrieval import (
    DenseRetriever,
    QueryEncoder,
    SparseRetriever,
    fuse,
    query_encoders,
)
from matcher.settings import Settings
from matcher.store import Store
from matcher.text import analyze, needs_text
from matcher.text import clear_caches as forget_analysed_texts
from matcher.vocabulary import Field, field_vectors, load_vocabulary

CANDIDATES = 120
VOCABULARY_DIR = "vocabulary"  # field vectors of the problem vocabulary, per model
MAX_LIMIT = 100
CUT_MARGIN = 1e-4  # a changed profile this close to a channel's cut-off counts as entering


@dataclass(frozen=True)
class _Cuts:
    ids: frozenset[str]  # everyone in the dense and the sparse run
    dense: float  # lowest score in a full run; -inf when fewer than CANDIDATES passed
    sparse: float


def _cut(run: dict[str, float]) -> float:
    return min(run.values()) if len(run) >= CANDIDATES else -math.inf


@dataclass
class Match:
    """One suggested partner."""

    profile: Profile
    raw: float
    score: int
    distance_km: float | None
    explanation: Explanation = field(default_factory=Explanation)

    def as_dict(self, logged_in: bool = False) -> dict[str, Any]:
        p = self.profile
        rec = public_record(p, logged_in)
        return {"id": p.id, "kind": p.kind, "name": p.name, "city": p.city,
                "district": p.district, "score": self.score,
                "distance_km": None if self.distance_km is None else round(self.distance_km, 1),
                # about 1 km: enough for a map, not a street address
                "lat": None if p.lat is None else round(p.lat, 2),
                "lon": None if p.lon is None else round(p.lon, 2),
                "institution": p.institution, "parent": p.parent,
                "description": rec["description"],
                "why": self.explanation.as_dict(p.name)}


@dataclass(frozen=True)
class Reach:
    """What a match result depends on: the profiles it scored (both channels' candidate runs,
    the pool with relatives, the searching profile, a named client), the first-pass query, the
    lowest score that entered each channel's run, and the filters. A change of other profiles'
    texts leaves the result as it is unless one of them can now enter a run."""

    ids: frozenset[str]
    qvec: np.ndarray = field(repr=False)
    sparse_texts: tuple[tuple[str, float], ...]  # analysed texts and their weights
    filters: Filters
    dense_cut: float
    sparse_cut: float


@dataclass(frozen=True, eq=False)
class Extra:
    """A text added to a request: a named client's needs, a vocabulary field's terms."""

    text: str
    weight: float
    vector: np.ndarray | None = None  # its query vector when known (else it is encoded)
    in_run: bool = True  # also scored over the whole corpus for the keyword candidate run


@dataclass
class MatchResult:
    """A page of matches plus what was searched for."""

    matches: list[Match]
    total: int
    offset: int
    parsed: ParsedQuery | None = None
    source: Profile | None = None
    logged_in: bool = False
    reach: Reach | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.parsed.as_dict() if self.parsed else None,
            "profile": ({"id": self.source.id, "name": self.source.name,
                         "kind": self.source.kind} if self.source else None),
            "total": self.total, "offset": self.offset,
            "results": [m.as_dict(self.logged_in) for m in self.matches],
        }


@dataclass
class _Pool:
    """The candidates of one request as parallel arrays (one entry per table row in ``rows``):
    the first ``n`` pass the filters, the rest are relatives that only lend relevance. The
    signals are in cosine units (float64, as Python floats of the float32 scores)."""

    rows: np.ndarray
    n: int
    cos: np.ndarray
    cross: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sparse: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rivalry: np.ndarray = field(default_factory=lambda: np.zeros(0))  # peer, not partner
    kind_factor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    family: np.ndarray = field(default_factory=lambda: np.zeros(0))  # borrowed from relatives
    sparse_weight: float = 0.0
    # The quoted need ↔ offer pair of entry i, built only for the results shown.
    pair_of: Callable[[int], Pair | None] = lambda i: None


def _limit_blas(threads: int) -> None:
    """Let numpy's BLAS use ``threads`` threads in this process (0 = leave the default): the
    products of one request are small, and a second BLAS thread that spins while the other
    core serves another request made them up to 20 times slower."""
    if threads > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")


class Matcher:
    """Loads the index and models once; answers match requests (thread-safe for reads)."""

    def __init__(self, store: Store, settings: Settings, gazetteer: Gazetteer | None = None,
                 index: LoadedIndex | None = None,
                 encoders: tuple[QueryEncoder, QueryEncoder] | None = None,
                 clients: ClientFinder | None = None) -> None:
        """``encoders`` (profile, sentence) lets a long-lived process reuse loaded models
        across index swaps, ``clients`` the name finder of the previous snapshot (taken when
        the organisations' names are unchanged)."""
        self.store, self.settings = store, settings
        _limit_blas(int(settings.query_threads))
        self.gazetteer = gazetteer or load_gazetteer()
        self.table = ProfileTable(store.table_columns())
        self.index = index or load_index(store, settings)
        self.encode_doc, self.encode_sent = encoders or query_encoders(settings)
        self.dense = DenseRetriever(self.encode_doc, self.index, self.table,
                                    int(settings.query_threads))
        self.sparse = SparseRetriever(self.index, self.table)
        # per table row: its row in the sparse index (-1: none) and the rank of its id
        self._sparse_at = _positions(self.index.sparse.ids, self.table.pks)
        self._id_rank = np.argsort(np.argsort(np.array(self.table.ids, dtype=object),
                                              kind="stable"), kind="stable")
        self.bank = SentenceBank(self.index.sent_vectors, self.index.sent_field,
                                 self.index.sent_text, self.index.sent_owner)
        self.region_names = tuple(settings.regions)
        names = store.names(("company", "startup", "tgz"))
        same = clients is not None and clients.digest == names_digest(names.items())
        self.clients = clients if clients is not None and same else ClientFinder(names.items())
        del names
        self.families = Families(self.table.parent, self.table.pos)
        self.vocabulary = load_vocabulary(str(settings.vocabulary_file))
        self._field_vectors: np.ndarray | None = None
        self._vocabulary_lock = threading.Lock()

    # -- public API ---------------------------------------------------------
    def clear_caches(self) -> None:
        """Forget what earlier requests left for later ones (query and sentence vectors,
        analysed texts, TF-IDF rows of request texts), so that the next request does all of
        its work: for benchmarks of first-time requests."""
        self.encode_doc.clear()
        self.encode_sent.clear()
        forget_analysed_texts()
        self.index.sparse.clear_queries()

    def match_text(self, text: str, *, near: str | None = None, lat: float | None = None,
                   lon: float | None = None, radius_km: float | None = None,
                   kinds: Iterable[str] | None = None, region: str | None = None,
                   limit: int = 10, offset: int = 0, logged_in: bool = False,
                   parse: bool = True, exclude_ids: Iterable[str] = (),
                   find_client: bool = True) -> MatchResult:
        """Partners for a free-text request; explicit options win over parsed ones. A company
        the request names ("Partner für die … GmbH") is the client: it is left out of the results
        together with its own organisation, and its location counts for proximity.

        Raises:
            MatcherError: empty request or invalid option values (place, region, radius).
        """
        text = (text or "").strip()
        if not text:
            raise MatcherError("Bitte beschreiben Sie, wen oder was Sie suchen.")
        parsed = (parse_query(text, self.gazetteer, self.region_names) if parse
                  else ParsedQuery(text=text, topic=text))
        self._apply_options(parsed, near, lat, lon, radius_km, kinds, region)
        center = (parsed.place.lat, parsed.place.lon) if parsed.place is not None else None
        if lat is not None and lon is not None:
            center = (lat, lon)
        exclude = set(exclude_ids)
        client_id = self.clients.find(text) if find_client else None
        client_needs = ""
        if client_id is not None:
            client = self.store.get(client_id)
            if visible_to(client, logged_in):
                parsed.client = (client.id, client.name)
                client_needs = client.needs or ""
                exclude |= self._own_organisation(client, same_institution=True)
                if center is None and client.lat is not None and client.lon is not None:
                    center = (client.lat, client.lon)
        filters = Filters(
            kinds=parsed.kinds, center=center,
            radius_km=parsed.radius_km if center else None,
            region=find_region(parsed.region, self.settings.regions, self.gazetteer)
            if parsed.region else None,
            logged_in=logged_in, exclude_ids=frozenset(exclude))
        query = parsed.search_text
        if parsed.client is not None:
            query = without_name(query, parsed.client[1])
        fields, expansion = self._expansion(query, float(self.settings.expansion_weight))
        parsed.fields = [f.name for f in fields]
        qvec, sparse_scores, sparse_texts = self._query(
            query, [Extra(client_needs, float(self.settings.client_needs_weight)), *expansion])
        qsent = self.encode_sent(query)

        def fill(pool: _Pool) -> None:
            hits = self.bank.best(qsent[None, :], self._pks(pool.rows))
            pool.sparse = self._sparse_of(pool.rows, sparse_scores, sparse_texts)
            pool.cross = finite_or_zero(hits.sim[:, 1:3].max(axis=1))
            pool.rivalry = hits.rivalries()
            pool.kind_factor = np.ones(len(pool.rows))
            pool.sparse_weight = float(self.settings.sparse_weight)
            pool.pair_of = lambda i: hits.pair(i, (1, 2), self.bank, [query], "their_offer")

        rows, cuts = self._pool(qvec, sparse_scores, filters)
        pool, scored = self._rerank(rows, qvec, filters, fill)
        result = self._finish(pool, center, None, limit, offset, logged_in, parsed=parsed,
                              query_text=query)
        named = frozenset({client_id}) if client_id else frozenset()
        result.reach = Reach(scored | cuts.ids | named, qvec, sparse_texts, filters,
                             cuts.dense, cuts.sparse)
        return result

    def match_profile(self, profile_id: str, *, limit: int = 10, offset: int = 0,
                      radius_km: float | None = None, kinds: Iterable[str] | None = None,
                      region: str | None = None, logged_in: bool = False,
                      same_institution: bool = False,
                      exclude_ids: Iterable[str] = ()) -> MatchResult:
        """Partners for a profile: its needs against their offers and its offers against
        their needs, near it, of complementary kinds, not of its own organisation.

        Raises:
            NotFoundError: no such profile, or the viewer may not see it.
        """
        src = self.store.get(profile_id)
        if not visible_to(src, logged_in):
            raise NotFoundError(f"Kein Profil mit der id {profile_id!r}.")
        center = (src.lat, src.lon) if src.lat is not None and src.lon is not None else None
        filters = Filters(
            kinds=tuple(kinds) if kinds else None, center=center,
            radius_km=radius_km if center else None,
            region=find_region(region, self.settings.regions, self.gazetteer) if region else None,
            logged_in=logged_in,
            exclude_ids=frozenset(self._own_organisation(src, same_institution)) | frozenset(
                exclude_ids))
        # The profile searches with what it needs: its needs against the others' offers.
        query = needs_text(src)
        _, expansion = self._expansion(query, float(self.settings.profile_expansion_weight))
        qvec, sparse_scores, sparse_texts = self._query(query, expansion)
        src_row = self.table.pos[src.id]
        mine = self._sentences(src_row)
        (need_vecs, need_texts), (offer_vecs, offer_texts) = mine.of(0), mine.of(1, 2)
        comp = self.settings.complementarity.get(src.kind, {})
        keyword_weight = float(self.settings.profile_sparse_weight)

        def fill(pool: _Pool) -> None:
            pks = self._pks(pool.rows)
            # my needs ↔ their offers, and their needs ↔ my offers
            to_them, to_me = self.bank.best(need_vecs, pks), self.bank.best(offer_vecs, pks)
            them = to_them.sim[:, 1:3].max(axis=1).astype(np.float64)
            me = to_me.sim[:, 0].astype(np.float64)
            # the better direction; their offer wins a tie; no sentence on either side: 0
            pool.cross = finite_or_zero(np.where(me > them, me, them))
            pool.sparse = self._sparse_of(pool.rows, sparse_scores, sparse_texts)
            pool.rivalry = to_them.rivalries()
            pool.kind_factor = np.array([float(comp.get(str(k), 1.0))
                                         for k in self.table.kinds[pool.rows]])
            pool.sparse_weight = keyword_weight

            def pair_of(i: int) -> Pair | None:
                pairs = [p for p in (
                    to_them.pair(i, (1, 2), self.bank, need_texts, "their_offer"),
                    to_me.pair(i, (0,), self.bank, offer_texts, "your_offer")) if p]
                pairs.sort(key=lambda p: -p.similarity)
                return pairs[0] if pairs else None

            pool.pair_of = pair_of

        rows, cuts = self._pool(qvec, sparse_scores, filters)
        pool, scored = self._rerank(rows, qvec, filters, fill)
        result = self._finish(pool, center, src, limit, offset, logged_in, query_text=query)
        result.reach = Reach(scored | cuts.ids | {src.id}, qvec, sparse_texts, filters,
                             cuts.dense, cuts.sparse)
        return result

    def warm_profile_queries(self, profile_ids: Iterable[str]) -> int:
        """Encode and analyse the text these profiles search with (their needs, else their
        description: the query of :meth:`match_profile` and of their Kreis's Inno Slam demand),
        so the first such request finds it cached, together with the vocabulary terms it
        adds; returns how many texts were prepared. Unknown ids are skipped."""
        done = 0
        weight = float(self.settings.profile_expansion_weight)
        for pid in profile_ids:
            if pid not in self.table.pos:
                continue
            text = needs_text(self.store.get(pid))
            if text:
                self.encode_doc(text)
                analyze(text)
                for extra in self._expansion(text, weight)[1]:
                    analyze(extra.text)  # (its vector is the vocabulary's)
                done += 1
        return done

    def unaffected(self, reach: Reach, changed: Iterable[str]) -> bool:
        """True if a result with ``reach``, computed before only the texts (needs, offers,
        description, keywords) of ``changed`` profiles changed, is still exact on this
        matcher: none of them was scored, and none passes the filters with a score that
        would now enter a channel's run. Needs exact (flat float32) vector search."""
        return self.unaffected_many([reach], changed)[0]

    def unaffected_many(self, reaches: Sequence[Reach], changed: Iterable[str]) -> list[bool]:
        """:meth:`unaffected` for each of ``reaches``; the changed profiles' vectors and
        keyword rows are read once for all of them."""
        changed = list(changed)
        if any(pid not in self.table.pos for pid in changed):
            return [False] * len(reaches)
        rows = np.array([self.table.pos[pid] for pid in changed], dtype=np.int64)
        vectors = self.index.docs.vectors(self.table.pks[rows]) if len(rows) else None
        at = self._sparse_at[rows]
        keyword = self.index.sparse.row_scorer(at) if (at >= 0).all() else None
        out = []
        for reach in reaches:
            if any(pid in reach.ids for pid in changed):
                out.append(False)
                continue
            passes = self.table.mask(reach.filters)[rows]
            if not passes.any():
                out.append(True)
                continue
            assert vectors is not None
            if (vectors[passes] @ reach.qvec >= reach.dense_cut - CUT_MARGIN).any() or (
                    keyword is None):
                out.append(False)
                continue
            scores = self._keyword(reach.sparse_texts, keyword)[passes]
            out.append(bool((scores < reach.sparse_cut - CUT_MARGIN).all()))
        return out

    # -- internals ----------------------------------------------------------
    def _apply_options(self, parsed: ParsedQuery, near: str | None, lat: float | None,
                       lon: float | None, radius_km: float | None, kinds: Iterable[str] | None,
                       region: str | None) -> None:
        if near:
            parsed.place = self.gazetteer.resolve(near)
            parsed.radius_km = None if radius_km is None else parsed.radius_km
        if lat is not None and lon is not None:
            parsed.place = None
        if radius_km is not None:
            if not 0 < radius_km <= 500:
                raise MatcherError("Umkreis muss zwischen 0 und 500 km liegen.")
            parsed.radius_km = radius_km
        if kinds:
            parsed.kinds = tuple(kinds)
        if region:
            parsed.region = find_region(region, self.settings.regions, self.gazetteer).name

    def _own_organisation(self, src: Profile, same_institution: bool) -> set[str]:
        own = {src.id}
        parents = {src.parent} if src.parent else set()
        own |= parents
        for i, parent in enumerate(self.table.parent):
            if parent and (parent == src.id or parent in parents):
                own.add(self.table.ids[i])
        if src.kind in ("researcher", "chair") and src.institution and not same_institution:
            own.update(self.store.ids_of_institution(src.institution, ("chair", "researcher")))
        return own

    def _query(self, text: str, extras: Sequence[Extra] = ()) -> tuple[
            np.ndarray, np.ndarray, tuple[tuple[str, float], ...]]:
        """Query vector, sparse scores of the keyword candidate run and the (analysed text,
        weight) pairs the pool's keyword similarity is computed from; each extra text (a named
        client's needs, a field's technical terms) joins them with its weight."""
        qvec = self.encode_doc(text)
        texts = [(analyze(text), 1.0)]
        max_df = float(self.settings.sparse_candidate_max_df)
        sparse_scores = self.index.sparse.scores(texts[0][0], max_df)
        vectors = []
        for extra in extras:
            if not extra.text or extra.weight <= 0:
                continue
            vectors.append((self.encode_doc(extra.text) if extra.vector is None
                            else extra.vector, extra.weight))
            texts.append((analyze(extra.text), extra.weight))
            if extra.in_run:
                sparse_scores = sparse_scores + extra.weight * self.index.sparse.scores(
                    texts[-1][0], max_df)
        return mixed_query(qvec, vectors), sparse_scores, tuple(texts)

    def _expansion(self, text: str, weight: float) -> tuple[list[Field], list[Extra]]:
        """The problem vocabulary's fields that ``text`` fires and that are among the
        ``expansion_rank_share`` of fields most similar to it, and the extras they add to the
        search: their terms, ``weight`` shared equally. The terms move the query vector and
        count in the pool's keyword similarity; they stay out of the keyword candidate run
        (same rankings on corpora/eval, and a 100,000-profile corpus would read every term's
        postings)."""
        if weight <= 0:
            return [], []
        fired = self.vocabulary.fired(text)
        if not fired:
            return [], []
        vectors = self.vocabulary_vectors()
        share = float(self.settings.expansion_rank_share)
        if share < 1:
            sims = vectors @ self.encode_doc(text)
            keep = max(1, round(share * len(sims)))
            cut = np.partition(sims, len(sims) - keep)[len(sims) - keep]
            fired = [i for i in fired if sims[i] >= cut]
        if not fired:
            return [], []
        part = weight / len(fired)
        return ([self.vocabulary.fields[i] for i in fired],
                [Extra(self.vocabulary.texts[i], part, vectors[i], in_run=False)
                 for i in fired])

    def vocabulary_vectors(self) -> np.ndarray:
        """Query vectors of the problem vocabulary's fields, by position: read from the data
        directory, or encoded once and saved there."""
        if self._field_vectors is None:
            with self._vocabulary_lock:
                if self._field_vectors is None:
                    self._field_vectors = field_vectors(
                        self.vocabulary, expected_models(self.settings)[0],
                        Path(self.store.data_dir) / VOCABULARY_DIR,
                        self.encode_doc.encode_uncached)
        return self._field_vectors

    def _pool(self, qvec: np.ndarray, sparse_scores: np.ndarray,
              filters: Filters) -> tuple[list[int], _Cuts]:
        """The hybrid top ``CANDIDATES`` (dense and sparse channel fused) for the filters, and
        what entered each channel's run."""
        s = self.settings
        dense = dict(self.dense.retrieve_vector(qvec, filters, CANDIDATES))
        sparse = dict(self.sparse.retrieve_scores(sparse_scores, filters, CANDIDATES))
        runs = [(dense, 1.0), (sparse, float(s.fusion_sparse_weight))]
        hits = fuse(runs, s.fusion, s.fusion_k)[:CANDIDATES]
        cuts = _Cuts(frozenset(dense) | frozenset(sparse), _cut(dense), _cut(sparse))
        return [self.table.pos[pid] for pid, _ in hits], cuts

    def _rerank(self, rows: list[int], qvec: np.ndarray, filters: Filters,
                fill: Callable[[_Pool], None]) -> tuple[_Pool, frozenset[str]]:
        """Score the pool of table ``rows``: ``fill`` sets the candidates' signals; the query
        vector is moved towards the best ``feedback_depth`` candidates (pseudo-relevance
        feedback), and a candidate borrows relevance from its parent or children
        (``family_weight``). Relatives of candidates join the pool when they pass the filters
        and lend their relevance when they are at least visible."""
        s = self.settings
        helpers: list[int] = []
        rows = list(rows)
        if s.family_weight > 0:
            related = self.families.expand(rows)
            if related:
                passes = self.table.mask(filters)
                visible = self.table.mask(Filters(logged_in=filters.logged_in,
                                                  exclude_ids=filters.exclude_ids))
                for row in related:
                    if passes[row]:
                        rows.append(row)
                    elif visible[row]:
                        helpers.append(row)
        n = len(rows)
        every = np.array(rows + helpers, dtype=np.int64)
        vectors = self.index.docs.vectors(self.table.pks[every])
        pool = _Pool(every, n, (vectors @ qvec).astype(np.float64))
        fill(pool)
        pool.family = np.zeros(len(every))
        if s.feedback_weight > 0 and n:
            first = self._relevance(pool)[:n]
            top = np.argsort(-first, kind="stable")[:int(s.feedback_depth)]
            moved = feedback_vector(qvec, vectors[top], float(s.feedback_weight))
            pool.cos = (vectors @ moved).astype(np.float64)
        if s.family_weight > 0:
            own = self._relevance(pool)
            lifted = self.families.lift(dict(zip(every.tolist(), own.tolist(), strict=True)),
                                        float(s.family_weight))
            family = np.array([lifted[r] for r in every.tolist()]) - own
            family[n:] = 0.0  # helpers lend, they do not borrow
            pool.family = family
        return pool, frozenset(self.table.ids[r] for r in every.tolist())

    def _doc_vector(self, row: int) -> np.ndarray:
        return self.index.docs.vectors(np.array([self.table.pks[row]]))[0]

    def _sparse_of(self, rows: np.ndarray, scores: np.ndarray,
                   texts: tuple[tuple[str, float], ...]) -> np.ndarray:
        """Keyword similarity of table ``rows`` (0 for a profile the sparse index lacks):
        taken from the candidate run's ``scores`` when they are exact, else computed for these
        rows from the weighted analysed ``texts``."""
        at = self._sparse_at[rows]
        if float(self.settings.sparse_candidate_max_df) >= 1.0:
            return np.where(at >= 0, scores[np.maximum(at, 0)].astype(np.float64), 0.0)
        out = np.zeros(len(rows))
        known = at >= 0
        if known.any():
            rows_known = at[known]
            out[known] = self._keyword(
                texts, lambda ts: self.index.sparse.scores_many(ts, rows_known))
        return out

    @staticmethod
    def _keyword(texts: tuple[tuple[str, float], ...],
                 per_text: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Exact keyword similarity (float64) of some rows of the sparse index to the weighted
        analysed ``texts`` of a request; ``per_text`` gives those rows' score for each text
        (``SparseIndex.scores_many`` or a ``row_scorer``)."""
        weights = np.array([w for _, w in texts], dtype=np.float32)
        return np.asarray(per_text([t for t, _ in texts]) @ weights, dtype=np.float64)

    def sentences(self, profile_id: str) -> Sentences:
        """Sentence vectors (sentence embedder) of a profile's needs, offers and description."""
        return self._sentences(self.table.pos[profile_id])

    def _sentences(self, row: int) -> Sentences:
        return self.bank.of(int(self.table.pks[row]))

    def _pks(self, rows: np.ndarray) -> list[int]:
        return self.table.pks[rows].tolist()

    def _finish(self, pool: _Pool, center: tuple[float, float] | None,
                src: Profile | None, limit: int, offset: int, logged_in: bool, *,
                parsed: ParsedQuery | None = None, query_text: str = "") -> MatchResult:
        s = self.settings
        n = pool.n
        rows = pool.rows[:n]
        rel = self._relevance(pool)[:n]
        distance = np.full(n, np.nan)
        bonus = np.zeros(n)
        if center is not None:
            lat, lon = self.table.lat[rows], self.table.lon[rows]
            known = ~np.isnan(lat)
            distance[known] = distances_km(center[0], center[1], lat[known], lon[known])
            bonus[known] = float(s.proximity_weight) * 0.5 ** (
                distance[known] / float(s.half_distance_km))
        raw = rel * pool.kind_factor[:n] + bonus
        order = np.lexsort((self._id_rank[rows], -raw))  # best first, then by id
        ordered = self._diversify(rows, order, offset + limit)
        page = ordered[offset:offset + limit]
        matches = [self._explain(pool, int(i), float(raw[i]),
                                 None if np.isnan(distance[i]) else float(distance[i]),
                                 src, query_text) for i in page]
        return MatchResult(matches, n, offset, parsed=parsed, source=src, logged_in=logged_in)

    def _diversify(self, rows: np.ndarray, order: np.ndarray, needed: int) -> list[int]:
        """Positions in ``order``'s sequence with at most ``max_per_group`` per organisation
        until the page is full; the rest after."""
        cap = int(self.settings.max_per_group)
        counts: dict[str, int] = {}
        first: list[int] = []
        later: list[int] = []
        for i in order.tolist():
            row = int(rows[i])
            group = self.table.parent[row] or self.table.ids[row]
            if counts.get(group, 0) < cap or len(first) >= needed:
                first.append(i)
                counts[group] = counts.get(group, 0) + 1
            else:
                later.append(i)
        return first + later

    def _topical(self, pool: _Pool, i: int) -> dict[str, float]:
        """The parts of topical relevance of entry ``i`` (cosine units): whole profile,
        need ↔ offer sentences, keyword overlap."""
        s = self.settings
        return {"thema": float(pool.cos[i]),
                "bedarf_angebot": float(s.cross_weight) * float(pool.cross[i]),
                "stichworte": pool.sparse_weight * float(pool.sparse[i]),
                "gleicher_bedarf": -float(s.competitor_weight) * float(pool.rivalry[i]),
                "organisation": float(pool.family[i])}

    def _relevance(self, pool: _Pool) -> np.ndarray:
        """The sum of :meth:`_topical` for every entry of the pool."""
        s = self.settings
        return (pool.cos + float(s.cross_weight) * pool.cross + pool.sparse_weight * pool.sparse
                - float(s.competitor_weight) * pool.rivalry + pool.family)

    def calibrate(self, raw: float, for_profile: bool = False) -> int:
        """Raw score → 0–100 (logistic around ``score_midpoint``, or ``profile_score_midpoint``
        for the partners of a profile, whose keyword weight is higher)."""
        mid = self.settings.profile_score_midpoint if for_profile else self.settings.score_midpoint
        z = (raw - mid) / self.settings.score_scale
        return round(100 / (1 + math.exp(-z)))

    def _explain(self, pool: _Pool, i: int, raw: float, distance: float | None,
                 src: Profile | None, query_text: str) -> Match:
        p = self.store.get(self.table.ids[int(pool.rows[i])])
        mine = needs_text(src) if src else query_text
        theirs = " ".join(x for x in (p.offers, p.description, " ".join(p.keywords)) if x)
        topical = self._topical(pool, i)
        kind_factor = float(pool.kind_factor[i])
        signals = {k: round(v, 3) for k, v in topical.items()}
        signals["art"] = round(kind_factor, 2)
        signals["naehe"] = round(raw - kind_factor * sum(topical.values()), 3)
        pair = pool.pair_of(i)
        exp = Explanation(pairs=[pair] if pair else [], terms=shared_terms(mine, theirs),
                          distance_km=distance, district=p.district, signals=signals)
        return Match(p, raw, self.calibrate(raw, for_profile=src is not None), distance, exp)


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Per entry of ``wanted``: its position in ``ids`` (-1 where absent), without a
    dictionary of every id (~110 MB of Python objects at a million profiles)."""
    ids = np.asarray(ids, dtype=np.int64)
    wanted = np.asarray(wanted, dtype=np.int64)
    out = np.full(len(wanted), -1, dtype=np.int64)
    if not len(ids) or not len(wanted):
        return out
    order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)
    found = ids[order[at]] == wanted
    out[found] = order[at[found]]
    return out
