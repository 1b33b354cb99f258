"""German double-opt-in introduction drafts, written from a match explanation, and .eml files.

Nothing here sends mail: a draft is text the manager edits, copies or downloads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from matcher.explain import Explanation, Sentences, best_pair, shared_terms
from matcher.geo import distance_km
from matcher.models import KIND_LABELS, Profile


@dataclass(frozen=True)
class Draft:
    """Subject and body of an introduction e-mail."""

    subject: str
    body: str


def explain_pair(client: Profile, partner: Profile, mine: Sentences, theirs: Sentences
                 ) -> Explanation:
    """Why ``partner`` fits ``client``: the best need ↔ offer sentence pair in either direction
    (their sentence vectors from the index, ``Matcher.sentences``), shared terms and distance —
    as in match explanations."""
    pairs = [p for p in (best_pair(mine.of(0), theirs.of(1, 2), "their_offer"),
                         best_pair(theirs.of(0), mine.of(1, 2), "your_offer")) if p]
    pairs.sort(key=lambda p: -p.similarity)
    offer_text = " ".join(x for x in (partner.offers, partner.description,
                                      " ".join(partner.keywords)) if x)
    return Explanation(pairs=pairs[:1],
                       terms=shared_terms(client.needs or client.description, offer_text),
                       distance_km=_distance(client, partner), district=partner.district)


def _distance(a: Profile, b: Profile) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    return distance_km(a.lat, a.lon, b.lat, b.lon)


def _where(p: Profile) -> str:
    return f" ({p.city})" if p.city else ""


def _fit_lines(client: Profile, partner: Profile, explanation: Explanation | None) -> list[str]:
    pair = explanation.pairs[0] if explanation and explanation.pairs else None
    if pair is not None and pair.direction == "their_offer":
        return [f"{client.name} sucht: „{pair.need}“",
                f"Sie bieten: „{pair.offer}“"]
    if pair is not None:
        return [f"Sie suchen: „{pair.need}“",
                f"{client.name} bietet: „{pair.offer}“"]
    lines = []
    if client.needs:
        lines.append(f"{client.name} sucht: „{client.needs.strip()}“")
    lines.append(f"Sie bieten: „{(partner.offers or partner.description).strip()}“")
    return lines


def compose_draft(client: Profile, partner: Profile, explanation: Explanation | None,
                  sender: str, sender_email: str = "") -> Draft:
    """A German e-mail to ``partner`` asking whether they agree to be introduced to
    ``client`` (double opt-in: contact details flow only after both sides said yes)."""
    lines = [
        "Guten Tag,",
        "",
        "ich unterstütze im Innovationsmanagement Unternehmen und Forschende in Sachsen dabei, "
        "die passenden Partner zu finden. Gern würde ich Sie mit "
        f"{client.name}{_where(client)} bekannt machen "
        f"({KIND_LABELS.get(client.kind, client.kind)}).",
        "",
        "Warum ich an Sie denke:",
        *(f"• {line}" for line in _fit_lines(client, partner, explanation)),
    ]
    if explanation and explanation.terms:
        lines.append("• Gemeinsame Themen: " + ", ".join(explanation.terms[:4]))
    if explanation and explanation.distance_km is not None:
        lines.append(f"• Entfernung: etwa {explanation.distance_km:.0f} km")
    lines += [
        "",
        "Vorschlag für den nächsten Schritt: ein kurzes Kennenlerngespräch (30 Minuten, "
        "Telefon oder Video) in den nächsten zwei Wochen.",
        "",
        "Bevor ich Kontaktdaten weitergebe, frage ich beide Seiten um ihr Einverständnis: "
        "Bitte antworten Sie kurz mit „Ja, gern“ oder „Nein, danke“. Erst wenn Sie und "
        f"{client.name} zugestimmt haben, bringe ich Sie zusammen. Eine Absage ist "
        "selbstverständlich in Ordnung und bleibt ohne Folgen.",
        "",
        "Mit freundlichen Grüßen",
        sender,
    ]
    if sender_email:
        lines.append(sender_email)
    subject = f"Kontaktvorschlag: {client.name} und {partner.name}"
    return Draft(subject[:200], "\n".join(lines))


def draft_eml(subject: str, body: str, *, to: str = "", sender: str = "",
              sender_email: str = "", date: dt.datetime | None = None) -> bytes:
    """The draft as an RFC 5322 message (UTF-8) marked unsent, for opening in a mail program."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject
    if to:
        msg["To"] = to
    if sender_email:
        msg["From"] = formataddr((sender, sender_email))
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    msg["X-Unsent"] = "1"
    msg.set_content(body, charset="utf-8")
    return msg.as_bytes()
