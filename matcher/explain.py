"""German explanations of a match: best need ↔ offer sentences, shared terms, distance, signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.text import key_terms

FIELD_NAMES = {0: "needs", 1: "offers", 2: "description"}
FIELD_LABELS = {"needs": "Bedarf", "offers": "Angebot", "description": "Profil"}


@dataclass
class Sentences:
    """Sentence vectors of one profile, by field code (0 needs, 1 offers, 2 description)."""

    vectors: np.ndarray
    fields: np.ndarray
    texts: list[str]

    def of(self, *codes: int) -> tuple[np.ndarray, list[str]]:
        rows = [i for i, f in enumerate(self.fields) if int(f) in codes]
        return self.vectors[rows], [self.texts[i] for i in rows]


@dataclass
class Pair:
    """A quoted need and the offer that answers it, with their cosine similarity."""

    need: str
    offer: str
    similarity: float
    direction: str  # "their_offer" (your need ↔ their offer) or "your_offer"

    def as_dict(self) -> dict[str, Any]:
        return {"need": self.need, "offer": self.offer, "similarity": round(self.similarity, 3),
                "direction": self.direction}


def best_pair(needs: tuple[np.ndarray, list[str]], offers: tuple[np.ndarray, list[str]],
              direction: str) -> Pair | None:
    """The most similar (need, offer) sentence pair, or ``None`` if a side is empty."""
    nv, nt = needs
    ov, ot = offers
    if not len(nv) or not len(ov):
        return None
    sims = nv @ ov.T
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return Pair(nt[i], ot[j], float(sims[i, j]), direction)


def shared_terms(a: str, b: str, limit: int = 6) -> list[str]:
    """Noun lemmas both texts use; a long word also counts when it is part of a compound on
    the other side ("schweißen" in "laserstrahlschweißen")."""
    la, set_b = key_terms(a), set(key_terms(b))
    out: list[str] = []
    for word in la:
        if word in out or len(word) < 4:
            continue
        if word in set_b or (len(word) >= 6 and any(word in other for other in set_b)):
            out.append(word)
    out.sort(key=len, reverse=True)
    return out[:limit]


@dataclass
class Explanation:
    """Why a result was suggested."""

    pairs: list[Pair] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    distance_km: float | None = None
    district: str | None = None
    signals: dict[str, float] = field(default_factory=dict)

    def summary(self, name: str) -> str:
        parts = []
        if self.pairs:
            p = self.pairs[0]
            if p.direction == "their_offer":
                parts.append(f"{name} bietet „{_short(p.offer)}“ – passend zum Bedarf "
                             f"„{_short(p.need)}“.")
            else:
                parts.append(f"{name} sucht „{_short(p.need)}“ – das passt zu Ihrem Angebot "
                             f"„{_short(p.offer)}“.")
        if self.terms:
            parts.append("Gemeinsame Begriffe: " + ", ".join(self.terms[:4]) + ".")
        if self.distance_km is not None:
            where = f" ({self.district})" if self.district else ""
            parts.append(f"Entfernung {self.distance_km:.0f} km{where}.")
        return " ".join(parts)

    def as_dict(self, name: str) -> dict[str, Any]:
        return {"need_offer": [p.as_dict() for p in self.pairs], "terms": self.terms,
                "signals": self.signals, "summary": self.summary(name)}


def _short(text: str, limit: int = 140) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"
