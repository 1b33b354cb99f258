"""German text handling: the text a profile is embedded with, sentences, lemmas, key terms."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from matcher.errors import MissingPackageError
from matcher.models import Profile

# Field order of the embedded profile text (fixed: changing it changes every vector).
TEXT_FIELDS = ("name", "description", "offers", "needs", "keywords")
SENTENCE_FIELDS = ("needs", "offers", "description")
_SENT_SPLIT = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÄÖÜ0-9„\"(])")
_EXTRA_STOP = {"gmbh", "kg", "co", "ag", "ug", "ek", "e.k.", "sowie", "bzw", "z.b", "u.a", "ca"}


def profile_text(p: Profile) -> str:
    """The text a profile is embedded and indexed with: name, description, offers, needs,
    keywords, in this order."""
    parts = [p.name, p.description, p.offers or "", p.needs or "", ", ".join(p.keywords)]
    return "\n".join(x for x in parts if x)


def profile_core_text(p: Profile) -> str:
    """What a profile does and wants: name, offers, needs, keywords (the description only when
    it has neither offers nor needs). Shorter than :func:`profile_text`, for slow encoders."""
    if not (p.offers or p.needs):
        return profile_text(p)
    return "\n".join(x for x in (p.name, p.offers or "", p.needs or "", ", ".join(p.keywords)) if x)


TEXT_VIEWS = {"full": profile_text, "core": profile_core_text}


def needs_text(p: Profile) -> str:
    """What a profile searches with: its needs, else its description (its partner search and
    its Kreis's Inno Slam demand)."""
    return p.needs or p.description


def split_sentences(text: str) -> list[str]:
    """Split German text into sentences (short fragments are merged into their neighbour)."""
    out: list[str] = []
    for piece in _SENT_SPLIT.split(text.strip()):
        piece = piece.strip()
        if not piece:
            continue
        if out and len(piece) < 25:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def profile_sentences(p: Profile) -> list[tuple[str, str]]:
    """(field, sentence) pairs of the needs, offers and description of a profile."""
    pairs: list[tuple[str, str]] = []
    for field in SENTENCE_FIELDS:
        value = getattr(p, field)
        if value:
            pairs.extend((field, s) for s in split_sentences(value))
    return pairs


@lru_cache(maxsize=1)
def _nlp() -> Any:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - core dependency
        raise MissingPackageError("Paket 'spacy' fehlt: pip install spacy") from exc
    nlp = spacy.blank("de")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except (ValueError, OSError) as exc:
        raise MissingPackageError(
            "Deutsche Lemmatisierung braucht 'spacy-lookups-data': pip install spacy-lookups-data"
        ) from exc
    return nlp


def _content_lemmas(doc: Any) -> list[str]:
    out = []
    for tok in doc:
        if tok.is_stop or tok.is_punct or tok.is_space or tok.like_num:
            continue
        lemma = (tok.lemma_ or tok.text).lower().strip("-–„“\"'()")
        if len(lemma) > 1 and lemma not in _EXTRA_STOP:
            out.append(lemma)
    return out


GENERIC_TERMS = {
    "unternehmen", "firma", "partner", "partnerin", "bereich", "thema", "themen", "lösung",
    "lösungen", "hilfe", "kunde", "kunden", "projekt", "projekte", "frage", "fragen", "jahr",
    "jahre", "möglichkeit", "unterstützung", "ansprechpartner", "kooperation", "zusammenarbeit",
    "entwicklung", "anwendung", "einsatz", "beispiel", "art", "teil", "teile", "ziel", "ziele",
    "woche", "wochen", "stück", "kosten", "idee", "ideen", "leute", "hand", "tour", "netz",
    "form", "haus", "dach", "problem", "probleme", "stelle", "zeit", "moment", "betrieb",
    "firmen", "partnern", "know-how", "erfahrung", "ergebnis", "ergebnisse", "weise", "fall",
}


_WORD = re.compile(r"\w+(?:[-/.]\w+)*")  # no stray brackets from "Chrom(VI)-freie"


def key_terms(text: str) -> list[str]:
    """Lower-cased lemmas of the nouns (capitalised words not at a sentence start), without
    generic words: the terms an explanation may show."""
    return list(_key_terms(text))


@lru_cache(maxsize=8192)
def _key_terms(text: str) -> tuple[str, ...]:
    out = []
    for tok in _nlp()(text):
        if tok.is_stop or tok.is_punct or not tok.text[:1].isupper() or tok.is_sent_start:
            continue
        lemma = (tok.lemma_ or tok.text).lower().strip("-–„“\"'()")
        if (len(lemma) > 3 and _WORD.fullmatch(lemma) and lemma not in GENERIC_TERMS
                and lemma not in _EXTRA_STOP):
            out.append(lemma)
    return tuple(dict.fromkeys(out))


def lemmas(text: str) -> list[str]:
    """Lower-cased lemmas of the content words (no stop words, punctuation or numbers)."""
    return _content_lemmas(_nlp()(text))


@lru_cache(maxsize=4096)
def analyze(text: str) -> str:
    """Text prepared for the sparse channel: lemmas joined by spaces (cached per text)."""
    return " ".join(lemmas(text))


def clear_caches() -> None:
    """Empty the per-text caches of the analysis (sparse-channel lemmas, explanation terms)."""
    analyze.cache_clear()
    _key_terms.cache_clear()


def analyze_many(texts: list[str]) -> list[str]:
    """:func:`analyze` for many texts, batched through spaCy."""
    return [" ".join(_content_lemmas(doc)) for doc in _nlp().pipe(texts, batch_size=64)]
