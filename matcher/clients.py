"""Recognise an organisation of the corpus named in a request ("Partner für die Flöhataler
Metallbau GmbH …"): the client an innovation manager is searching for."""

from __future__ import annotations

import hashlib
import math
import re
import sys
from array import array
from collections.abc import Iterable

from matcher.districts import fold

LEGAL_FORMS = {"gmbh", "co", "kg", "ag", "ug", "ek", "gbr", "ohg", "mbh", "haftungsbeschraenkt",
               "und", "der", "die", "das", "fuer", "von", "sohne", "soehne", "inh"}


_ARTICLES = {"und", "der", "die", "das", "den", "dem", "des", "fuer", "von"}
_ENDINGS = ("en", "er", "es", "em", "e", "n", "s")


def _stem(token: str) -> str:
    """Drop one German inflection ending from long words ("westerzgebirgischen" → "…isch")."""
    if len(token) > 5:
        for end in _ENDINGS:
            if token.endswith(end):
                return token[: -len(end)]
    return token


def _tokens(text: str) -> list[str]:
    return [_stem(t) for t in fold(text).split() if len(t) > 2 and t not in LEGAL_FORMS]


def names_digest(names: Iterable[tuple[str, str]]) -> str:
    """A digest of (id, name) pairs in their order: equal digests, equal finders."""
    h = hashlib.sha256()
    for pid, name in names:
        h.update(f"{pid}\0{name}\n".encode())
    return h.hexdigest()


class ClientFinder:
    """Finds the organisation whose distinctive name words a request contains.

    Names are held by position (ids, distinct words, weights) and each word maps to the
    positions of the names that have it: at 700,000 names this is a third of the memory of a
    dictionary per name."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        self.ids: list[str] = []
        self.tokens: list[tuple[str, ...]] = []  # a name's distinct words, in order
        owners: dict[str, array[int]] = {}
        digest = hashlib.sha256()
        for pid, name in names:
            digest.update(f"{pid}\0{name}\n".encode())
            toks = tuple(dict.fromkeys(sys.intern(t) for t in _tokens(name)))
            for t in toks:
                owners.setdefault(t, array("i")).append(len(self.ids))
            self.ids.append(pid)
            self.tokens.append(toks)
        self.digest = digest.hexdigest()
        self.owners = owners
        n = max(len(self.ids), 1)
        self.idf = {t: math.log(n / len(own)) for t, own in owners.items()}
        self.weight = [sum(self.idf[t] for t in toks) for toks in self.tokens]

    def find(self, text: str) -> str | None:
        """The id of the organisation the text names, or ``None``.

        The name's words must stand together in the text (a phrase, in any inflection), carry at
        least 70% of the name's weight (rare words weigh more) and be two or more words, unless
        the name has only one distinctive word.
        """
        words = _tokens(text)
        best, best_score = None, 0.0
        # Only names that share words with the text can be named in it, and only if the shared
        # words alone carry enough of the name's weight (the phrase can only carry less).
        present: dict[int, float] = {}
        for w in set(words):
            idf = self.idf.get(w, 0.0)
            for i in self.owners.get(w, ()):
                present[i] = present.get(i, 0.0) + idf
        candidates = [i for i, got in present.items() if got >= 0.7 * self.weight[i] - 1e-9]
        for i in sorted(candidates):  # ties: first in corpus
            toks = self.tokens[i]
            hit = _longest_run(words, set(toks))
            if not hit or (len(hit) < 2 and len(toks) > 1):
                continue
            whole = self.weight[i]  # 0 when every name has these words (e.g. only one name)
            share = (sum(self.idf[t] for t in hit) / whole if whole > 0
                     else len(hit) / len(toks))
            if share >= 0.7 and share * len(hit) > best_score:
                best, best_score = self.ids[i], share * len(hit)
        return best


def _longest_run(words: list[str], name: set[str]) -> set[str]:
    """The longest run of consecutive words that all belong to the name."""
    best: list[str] = []
    run: list[str] = []
    for w in words:
        run = [*run, w] if w in name else []
        if len(run) > len(best):
            best = run
    return set(best)


_WORD = re.compile(r"[\w&.\-]+")
_DANGLING = re.compile(r"\b(?:für|fuer|der|die|den|dem|des|von|bei|for|of)\s*(?=[:,;–\-]|$)",
                       re.IGNORECASE)


def without_name(text: str, name: str) -> str:
    """The request without the organisation's name ("Partner für die Muldental Präzisionsoptik:
    Prüfung von Optikflächen" → "Partner: Prüfung von Optikflächen"): the name says who the
    client is, not what it needs, and its words would pull in look-alikes of the client."""
    name_tokens = set(_tokens(name))
    words = list(_WORD.finditer(text))

    def role(word: str) -> str:
        parts = [t for t in fold(word).split() if len(t) > 2]
        if parts and all(_stem(t) in name_tokens for t in parts):
            return "name"
        if all(t in LEGAL_FORMS for t in parts):
            return "glue"  # legal forms, articles, short words inside a name
        return "other"

    roles = [role(w.group()) for w in words]
    best: tuple[int, int, int] = (0, -1, -1)  # (name words, first, last)
    i = 0
    while i < len(words):
        if roles[i] != "name":
            i += 1
            continue
        j = i
        while j + 1 < len(words) and roles[j + 1] != "other":
            j += 1
        while roles[j] == "glue" and fold(words[j].group()) not in LEGAL_FORMS - _ARTICLES:
            j -= 1
        count = roles[i:j + 1].count("name")
        if count > best[0]:
            best = (count, i, j)
        i = j + 1
    if not best[0]:
        return text
    first = best[1]
    while first > 0 and fold(words[first - 1].group()) in _ARTICLES:
        first -= 1  # "der Muldental Präzisionsoptik"
    rest = text[:words[first].start()] + text[words[best[2]].end():]
    while (shorter := _DANGLING.sub("", rest)) != rest:
        rest = shorter
    rest = re.sub(r"\s+(?=[:,;])", "", rest)
    return re.sub(r"\s{2,}", " ", rest).strip(" :,;–-") or text
