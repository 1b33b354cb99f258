"""Exports of an Inno Slam line-up: CSV (Excel-compatible), iCalendar event, printable programme."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import uuid

from matcher.models import CAREER_STAGES
from matcher.slam import Lineup

STAGE_LABELS = dict(zip(CAREER_STAGES, ("Promovierende", "Postdoc", "Gruppenleitung",
                                        "Juniorprofessur", "Professur"), strict=True))


def lineup_csv(lineup: Lineup) -> str:
    """Semicolon CSV with a BOM, as German Excel opens it directly."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["Nr", "Name", "Einrichtung", "Karrierestufe", "Themen", "Besonders relevant für",
                "Anreise (km)", "Begründung"])
    for n, s in enumerate(lineup.speakers, 1):
        w.writerow([n, s.profile.name, s.profile.institution or "",
                    STAGE_LABELS.get(s.profile.career_stage or "", ""), " | ".join(s.themes),
                    " | ".join(p.name for p in s.serves),
                    "" if s.distance_km is None else f"{s.distance_km:.0f}", s.why])
    return "\ufeff" + buf.getvalue()


def _venue_text(lineup: Lineup) -> str:
    v = lineup.venue
    return f"{v.name}, {v.city}" if v else f"{lineup.region.name} (Ort wird noch festgelegt)"


def lineup_ics(lineup: Lineup, start: dt.datetime, duration_min: int = 150) -> bytes:
    """An iCalendar (RFC 5545) file with one event for the Inno Slam."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//matcher//Inno Slam//DE")
    cal.add("version", "2.0")
    ev = Event()
    ev.add("uid", f"{uuid.uuid5(uuid.NAMESPACE_URL, lineup.region.slug + start.isoformat())}"
                  "@matcher")
    ev.add("dtstamp", dt.datetime.now(dt.UTC))
    ev.add("dtstart", start)
    ev.add("dtend", start + dt.timedelta(minutes=duration_min))
    ev.add("summary", f"Inno Slam {lineup.region.name}")
    ev.add("location", _venue_text(lineup))
    lines = [f"{n}. {s.profile.name} ({s.profile.institution}): {', '.join(s.themes[:2])}"
             for n, s in enumerate(lineup.speakers, 1)]
    ev.add("description", "Vortragende:\n" + "\n".join(lines))
    cal.add_component(ev)
    return bytes(cal.to_ical())


def lineup_html(lineup: Lineup, date: dt.date | None = None) -> str:
    """A printable German programme (self-contained HTML with print CSS)."""
    e = html.escape
    when = date.strftime("%d.%m.%Y") if date else "Termin folgt"
    talks = "\n".join(
        f"<li><h3>{e(s.profile.name)}</h3><p class=meta>{e(s.profile.institution or '')} · "
        f"{e(STAGE_LABELS.get(s.profile.career_stage or '', ''))}</p>"
        f"<p>{e(s.profile.description)}</p>"
        f"<p class=meta>Themen: {e(', '.join(s.themes) or '–')}</p></li>"
        for s in lineup.speakers)
    themes = "".join(f"<li>{e(t.label)} ({len(t.smes)} Unternehmen)</li>"
                     for t in lineup.themes)
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<title>Inno Slam {e(lineup.region.name)}</title>
<style>
body {{ font: 12pt/1.45 Georgia, serif; max-width: 48rem; margin: 2rem auto; color: #111; }}
h1 {{ font-size: 22pt; margin-bottom: 0; }} .meta {{ color: #444; font-size: 10pt; }}
ol li {{ margin-bottom: 1rem; page-break-inside: avoid; }} h3 {{ margin: 0; }}
@media print {{ body {{ margin: 0; }} a {{ color: inherit; }} }}
</style></head><body>
<h1>Inno Slam {e(lineup.region.name)}</h1>
<p class=meta>{e(when)} · {e(_venue_text(lineup))}</p>
<p>Junge Forschende sächsischer Hochschulen stellen in kurzen Vorträgen Forschung vor, die zu
den Themen der Unternehmen der Region passt. Danach: Zeit für Gespräche.</p>
<h2>Programm</h2>
<ol>{talks}</ol>
<h2>Themen der Region</h2>
<ul>{themes}</ul>
</body></html>
"""
