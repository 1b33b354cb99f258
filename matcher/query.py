"""Natural-language parsing of German search requests: place, radius, region, kinds, topic.

"Lehrstuhl für Oberflächentechnik im Umkreis von 40 km um Freiberg" →
topic "Oberflächentechnik", kinds (chair,), place Freiberg, radius 40 km.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from matcher.districts import DISTRICTS
from matcher.errors import PlaceError
from matcher.geo import Gazetteer, Place
from matcher.models import KIND_LABELS

# Words that name a kind of actor (lower case, lemma-ish forms and plurals).
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "chair": ("lehrstuhl", "lehrstühle", "lehrstuhls", "professur", "professuren", "institut",
              "institute", "hochschule", "hochschulen", "uni", "universität", "universitäten",
              "forschungsgruppe", "arbeitsgruppe", "chair", "university"),
    "researcher": ("forscher", "forscherin", "forscherinnen", "forschende", "forschenden",
                   "wissenschaftler", "wissenschaftlerin", "wissenschaftlerinnen", "doktorand",
                   "doktorandin", "doktoranden", "postdoc", "postdocs", "speaker", "sprecher",
                   "referent", "referentin", "referenten", "vortrag", "vortragende", "redner",
                   "rednerin", "researcher", "researchers", "scientist", "scientists"),
    "startup": ("start-up", "start-ups", "startup", "startups", "gründer", "gründerin",
                "ausgründung", "ausgründungen", "spin-off", "spin-offs"),
    "company": ("firma", "firmen", "unternehmen", "kmu", "betrieb", "betriebe", "mittelständler",
                "zulieferer", "hersteller", "dienstleister", "company", "companies", "sme",
                "smes", "supplier"),
    "tgz": ("tgz", "gründerzentrum", "gründerzentren", "technologiezentrum",
            "technologiezentren", "innovationszentrum"),
    "offering": ("labor", "labore", "labors", "werkstatt", "werkstätten", "reinraum",
                 "reinräume", "testfeld", "testfelder", "coworking", "veranstaltungsraum",
                 "veranstaltungsräume", "raum", "räume", "saal", "makerspace", "prüfstand",
                 "lab", "labs", "workshop", "venue", "room"),
}
NEAR_CUES = {"nähe", "naehe", "bei", "um", "nahe", "umgebung", "umkreis", "raum", "near",
             "around", "rund", "umland"}
IN_CUES = {"in", "im", "aus", "ab", "at"}
DEFAULT_IN_RADIUS_KM = 20.0
_RADIUS = re.compile(r"(\d{1,3})\s*(?:km|kilometer|kilometern)\b", re.IGNORECASE)
_FILLERS = re.compile(
    r"\b(?:im\s+umkreis\s+von|in\s+der\s+nähe\s+von|in\s+der\s+naehe\s+von|in\s+der\s+nähe|"
    r"in\s+der\s+umgebung\s+von|rund\s+um|nahe|bei|um|im|in\s+der|in\s+den|in|aus|near|"
    r"around|within|von)\s*$", re.IGNORECASE)


@dataclass
class ParsedQuery:
    """What a free-text request asks for; ``topic`` is what remains for retrieval (may be
    empty when the request only names kinds and places: "Start-ups in der Lausitz")."""

    text: str
    topic: str
    place: Place | None = None
    radius_km: float | None = None
    region: str | None = None
    kinds: tuple[str, ...] | None = None
    notes: list[str] = field(default_factory=list)
    client: tuple[str, str] | None = None  # (id, name) of an organisation the request names
    fields: list[str] = field(default_factory=list)  # problem vocabulary fields it fired

    @property
    def search_text(self) -> str:
        """The text to retrieve with: the topic, or the whole request if no topic is left."""
        return self.topic or self.text

    def interpretation(self) -> str:
        """German one-liner: "Gesucht: … · Art: … · Ort: … · Umkreis: … km"."""
        parts = [f"Gesucht: {self.topic or '–'}"]
        if self.client:
            parts.append(f"Für: {self.client[1]}")
        if self.kinds:
            parts.append("Art: " + ", ".join(KIND_LABELS[k] for k in self.kinds))
        if self.place is not None:
            parts.append(f"Ort: {self.place.name}")
        if self.radius_km is not None:
            parts.append(f"Umkreis: {self.radius_km:g} km")
        if self.region:
            parts.append(f"Region: {self.region}")
        if self.fields:
            parts.append("Fachgebiet: " + ", ".join(self.fields))
        return " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "topic": self.topic,
                "place": self.place.as_dict() if self.place else None,
                "radius_km": self.radius_km, "region": self.region,
                "kinds": list(self.kinds) if self.kinds else None,
                "client": {"id": self.client[0], "name": self.client[1]} if self.client else None,
                "fields": list(self.fields),
                "interpretation": self.interpretation(), "notes": self.notes}


def _region_phrases(region_names: tuple[str, ...]) -> dict[str, str]:
    phrases: dict[str, str] = {}
    for d in DISTRICTS:
        for alias in (d.name, *d.aliases):
            if not d.urban or alias != d.seat:  # "Leipzig" alone is the city, a place
                phrases[alias.lower()] = d.name
    for name in region_names:
        phrases[name.lower()] = name
    return phrases


@lru_cache(maxsize=4)
def _ruler(gazetteer_id: int, region_names: tuple[str, ...], places: tuple[str, ...]) -> Any:
    """A blank German spaCy pipeline with an EntityRuler for places, regions and kinds."""
    import spacy

    nlp = spacy.blank("de")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns: list[dict[str, Any]] = []
    for phrase, region in _region_phrases(region_names).items():
        patterns.append({"label": "REGION", "pattern": phrase, "id": region})
    for name in places:
        patterns.append({"label": "PLACE", "pattern": name.lower(), "id": name})
    for kind, words in KIND_WORDS.items():
        patterns.extend({"label": "KIND", "pattern": w, "id": kind} for w in words)
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    return nlp


def parse_query(text: str, gazetteer: Gazetteer, region_names: tuple[str, ...] = ()) -> ParsedQuery:
    """Parse a free-text request. Places count only after a locative cue ("in", "bei",
    "um", "Nähe") or when they are a Kreis seat or kreisfreie Stadt, so that topic words that
    happen to be village names stay topic words."""
    nlp = _ruler(id(gazetteer), tuple(region_names), gazetteer.names)
    doc = nlp(text)
    out = ParsedQuery(text=text, topic=text)
    drop: list[tuple[int, int]] = []
    kinds: list[str] = []
    big = {d.seat.lower() for d in DISTRICTS}
    for ent in doc.ents:
        before = [t.lower_ for t in doc[max(0, ent.start - 4):ent.start]]
        if ent.label_ == "KIND":
            kinds.append(ent.ent_id_)
            if ent.ent_id_ != "offering":  # "Labor", "Reinraum" also say what is wanted
                drop.append((ent.start_char, ent.end_char))
        elif ent.label_ == "REGION" and out.region is None:
            out.region = ent.ent_id_
            drop.append((ent.start_char, ent.end_char))
        elif ent.label_ == "PLACE" and out.place is None:
            cue_near = any(w in NEAR_CUES for w in before)
            cue_in = bool(before) and before[-1] in IN_CUES
            if not (cue_near or cue_in or ent.text.lower() in big):
                continue
            try:
                out.place = gazetteer.resolve(ent.ent_id_)
            except PlaceError as exc:
                out.notes.append(exc.message)
                continue
            drop.append((ent.start_char, ent.end_char))
            if cue_in and not cue_near:
                out.radius_km = DEFAULT_IN_RADIUS_KM
    m = _RADIUS.search(text)
    if m:
        out.radius_km = float(m.group(1))
        drop.append(m.span())
    if kinds:
        out.kinds = tuple(dict.fromkeys(kinds))
    out.topic = _remaining(text, drop)
    return out


def _remaining(text: str, spans: list[tuple[int, int]]) -> str:
    """The text without the recognised spans and the connecting words before them."""
    pieces, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        pieces.append(_FILLERS.sub("", text[pos:start]))
        pos = end
    pieces.append(text[pos:])
    topic = " ".join(p.strip(" ,;:-") for p in pieces)
    topic = re.sub(r"\b(?:für|fuer|zum|zur|zu|mit|der|die|das|ein|eine|einen|einer|von|um)\s*$",
                   "", topic.strip(), flags=re.IGNORECASE)
    topic = re.sub(r"^\s*(?:für|fuer|zum|zur|zu|mit|der|die|das|von)\s+", "", topic,
                   flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", topic).strip(" ,;:-?!.")
