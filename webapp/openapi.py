"""The OpenAPI 3 document of the JSON API, served at ``/api/openapi.json``.

Declared by hand next to the endpoints it describes; ``tests/test_openapi.py`` validates it and lets
schemathesis check every operation against the running app.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from matcher.models import KINDS
from webapp.api import MAX_LIMIT, MAX_QUERY_CHARS

bp = Blueprint("openapi", __name__)



def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _obj(required: list[str], props: dict[str, Any], extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props,
            "additionalProperties": extra}


def _query(name: str, schema: dict[str, Any], description: str,
           required: bool = False, **more: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description, **more}


STR, NUM, INT, BOOL = ({"type": "string"}, {"type": "number"}, {"type": "integer"},
                       {"type": "boolean"})
KIND = {"type": "string", "enum": list(KINDS)}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(["ok", "error", "status"], {
        "ok": {"type": "boolean", "enum": [False]}, "error": STR,
        "status": {"type": "integer", "minimum": 400, "maximum": 599}}),
    "Health": _obj(["ok", "profiles", "warm"], {"ok": BOOL, "profiles": INT, "warm": BOOL}),
    "Stats": _obj(["total", "by_kind", "by_district"], {
        "total": INT, "by_kind": {"type": "object", "additionalProperties": INT},
        "by_district": {"type": "object", "additionalProperties": INT}}),
    "Place": _obj(["name", "municipality", "district", "lat", "lon"], {
        "name": STR, "municipality": STR, "district": STR, "lat": NUM, "lon": NUM}),
    "Query": _obj(["text", "topic", "place", "radius_km", "region", "kinds", "client",
                   "fields", "interpretation", "notes"], {
        "text": STR, "topic": STR, "place": _nullable(_ref("Place")),
        "radius_km": _nullable(NUM), "region": _nullable(STR),
        "kinds": _nullable({"type": "array", "items": KIND}),
        "client": _nullable(_obj(["id", "name"], {"id": STR, "name": STR})),
        "fields": {"type": "array", "items": STR,
                   "description": "Problem vocabulary fields whose technical terms were added"},
        "interpretation": STR, "notes": {"type": "array", "items": STR}}),
    "NeedOffer": _obj(["need", "offer", "similarity", "direction"], {
        "need": STR, "offer": STR, "similarity": NUM,
        "direction": {"type": "string", "enum": ["their_offer", "your_offer"]}}),
    "Why": _obj(["need_offer", "terms", "signals", "summary"], {
        "need_offer": {"type": "array", "items": _ref("NeedOffer")},
        "terms": {"type": "array", "items": STR},
        "signals": {"type": "object", "additionalProperties": NUM},
        "summary": STR}),
    "Match": _obj(["id", "kind", "name", "city", "district", "score", "distance_km", "why"], {
        "id": STR, "kind": KIND, "name": STR, "city": _nullable(STR),
        "district": _nullable(STR), "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "distance_km": _nullable(NUM), "lat": _nullable(NUM), "lon": _nullable(NUM),
        "institution": _nullable(STR), "parent": _nullable(STR), "description": STR,
        "why": _ref("Why"),
        "introduction": STR}),  # managers: status of an earlier introduction of the pair
    "MatchResponse": _obj(["query", "profile", "total", "offset", "results"], {
        "query": _nullable(_ref("Query")),
        "profile": _nullable(_obj(["id", "name", "kind"], {"id": STR, "name": STR,
                                                            "kind": KIND})),
        "total": INT, "offset": INT, "results": {"type": "array", "items": _ref("Match")}}),
    "Profile": _obj(["id", "kind", "name", "description"], {
        "id": STR, "kind": KIND, "name": STR, "description": STR}, extra=True),
    "KeywordHit": _obj(["id", "kind", "name", "city", "district", "score", "description"], {
        "id": STR, "kind": KIND, "name": STR, "city": _nullable(STR),
        "district": _nullable(STR), "score": NUM, "description": STR}),
    "Region": _obj(["name", "slug"], {
        "name": STR, "slug": STR, "districts": {"type": "array", "items": STR},
        "center": _obj(["lat", "lon"], {"lat": NUM, "lon": NUM}), "radius_km": NUM}),
    "RegionOverview": _obj(["name", "slug", "counts", "themes", "gaps"], {
        "name": STR, "slug": STR,
        "counts": {"type": "object", "additionalProperties": INT},
        "themes": {"type": "array", "items": _ref("Theme")},
        "gaps": {"type": "array", "items": _ref("Gap")}}),
    "Theme": _obj(["label", "weight", "smes"], {
        "label": STR, "weight": NUM, "smes": {"type": "array", "items": STR},
        "terms": {"type": "array", "items": STR}}),
    "Gap": _obj(["label", "weight", "smes"], {
        "label": STR, "weight": NUM, "smes": {"type": "array", "items": STR}}),
    "Speaker": _obj(["id", "name", "themes", "serves", "distance_km", "why", "alternatives"], {
        "id": STR, "name": STR, "institution": _nullable(STR), "career_stage": _nullable(STR),
        "themes": {"type": "array", "items": STR}, "serves": {"type": "array", "items": STR},
        "serves_names": {"type": "array", "items": STR}, "distance_km": _nullable(NUM),
        "why": STR, "alternatives": {"type": "array", "items": STR},
        "alternative_details": {"type": "array", "items": _obj(
            ["id", "name", "coverage"], {"id": STR, "name": STR,
                                         "institution": _nullable(STR), "coverage": NUM})}}),
    "Lineup": _obj(["region", "venue", "themes", "speakers", "coverage", "gaps", "demand"], {
        "region": STR,
        "venue": {"type": "object", "properties": {"id": _nullable(STR), "name": STR},
                  "required": ["id", "name"]},
        "themes": {"type": "array", "items": _ref("Theme")},
        "speakers": {"type": "array", "items": _ref("Speaker")},
        "coverage": {"type": "number", "minimum": 0, "maximum": 1},
        "gaps": {"type": "array", "items": _ref("Gap")},
        "demand": _obj(["smes", "read"], {
            "smes": {"type": "integer", "description": "visible SMEs in the region"},
            "read": {"type": "integer", "description": "SMEs whose needs were read (an "
                     "evenly spread sample where the region has more than slam_sample)"}})}),
}

TEXT = _query("text", {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS},
              "Freitext, z. B. „Galvanik im Umkreis von 30 km um Freiberg“.", required=True)
LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
               "Höchstens so viele Ergebnisse (Seite).")
OFFSET = _query("offset", {"type": "integer", "minimum": 0, "maximum": 10_000},
                "Ab diesem Rang (Blättern).")
MATCH_FILTERS = [
    _query("radius_km", {"type": "number", "minimum": 1, "maximum": 500},
           "Umkreis in km (harte Grenze)."),
    _query("kinds", {"type": "array", "items": KIND}, "Arten (wiederholt oder kommagetrennt).",
           style="form", explode=True),
    _query("region", {"type": "string", "maxLength": 200}, "Kreis oder eigene Region."),
    LIMIT, OFFSET,
]
PLACE = [
    _query("near", {"type": "string", "maxLength": 200}, "Ort oder PLZ in Sachsen."),
    _query("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Breite (mit lon)."),
    _query("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Länge (mit lat)."),
]
SLAM = [
    _query("size", {"type": "integer", "minimum": 1, "maximum": 10}, "Anzahl Vortragende."),
    _query("max_travel_km", {"type": "number", "minimum": 5, "maximum": 500},
           "Längste Anreise in km."),
    _query("venue", {"type": "string", "maxLength": 200}, "Angebots-ID oder Ort."),
    _query("exclude", {"type": "string", "maxLength": 2000}, "IDs, kommagetrennt."),
    _query("pin", {"type": "string", "maxLength": 2000},
           "IDs, die auf jeden Fall vortragen (kommagetrennt)."),
]
SLAM_PLACE = [
    _query("region", {"type": "string", "maxLength": 200}, "Kreis oder eigene Region."),
    _query("near", {"type": "string", "maxLength": 200}, "Ort (statt region)."),
    _query("radius_km", {"type": "number", "minimum": 1, "maximum": 500}, "Umkreis um near."),
]
PROFILE_ID = {"name": "profile_id", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"}}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Ungültige Parameter", 404: "Nicht gefunden",
            503: "Suchindex fehlt oder ist veraltet (matcher index)"}
    return {str(c): {"description": text.get(c, "Fehler"),
                     "content": {"application/json": {"schema": _ref("Error")}}}
            for c in codes}


def _get(summary: str, params: list[dict[str, Any]], ok: dict[str, Any],
         *errors: int) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": ok, **_errors(*(errors or (400,)))}}}


def _download(mime: str) -> dict[str, Any]:
    return {"description": "Datei", "content": {mime: {"schema": {"type": "string"}}}}


def spec() -> dict[str, Any]:
    """The OpenAPI 3.0 document."""
    array = {"type": "array"}
    paths = {
        "/healthz": _get("Betriebsbereitschaft", [], _ok(_ref("Health")), 400),
        "/api/stats": _get("Zahlen je Art und Kreis", [], _ok(_ref("Stats")), 400),
        "/api/match": _get("Partner für eine Freitext-Anfrage", [TEXT, *PLACE, *MATCH_FILTERS],
                           _ok(_ref("MatchResponse")), 400, 404, 503),
        "/api/profiles/{profile_id}": _get("Ein Profil (öffentliche Felder)", [PROFILE_ID],
                                           _ok(_ref("Profile")), 400, 404),
        "/api/profiles/{profile_id}/matches": _get(
            "Passende Partner für ein Profil", [PROFILE_ID, *MATCH_FILTERS, _query(
                "nur_neue", {"type": "string", "enum": ["1"]},
                "Angemeldete Manager:innen: nur Partner ohne frühere Vorstellung.")],
            _ok(_ref("MatchResponse")), 400, 404, 503),
        "/api/search": _get("Stichwortsuche (BM25)", [TEXT, LIMIT],
                            _ok({**array, "items": _ref("KeywordHit")}), 400),
        "/api/geo": _get("Ort in Sachsen auflösen", [_query(
            "place", {"type": "string", "minLength": 1, "maxLength": 200}, "Ort oder PLZ.",
            required=True)], _ok(_ref("Place")), 400, 404),
        "/api/regions": _get("Kreise und eigene Regionen", [],
                             _ok({**array, "items": _ref("Region")}), 400),
        "/api/regions/{slug}": _get(
            "Regionsübersicht: Akteure, Bedarfsthemen, Lücken",
            [{"name": "slug", "in": "path", "required": True,
              "schema": {"type": "string", "maxLength": 200}}],
            _ok(_ref("RegionOverview")), 400, 404, 503),
        "/api/slam": _get("Inno-Slam-Line-up für eine Region", [*SLAM_PLACE, *SLAM],
                          _ok(_ref("Lineup")), 400, 404, 503),
        "/api/slam/tour": _get(
            "Inno-Slam-Tour über mehrere Regionen",
            [_query("regions", {"type": "string", "maxLength": 2000},
                    "Regionen, kommagetrennt (Standard: alle 13 Kreise)."), *SLAM],
            _ok({**array, "items": _ref("Lineup")}), 400, 404, 503),
        "/api/slam/export.{fmt}": _get(
            "Line-up herunterladen: CSV, iCalendar (mit date) oder druckbares Programm",
            [{"name": "fmt", "in": "path", "required": True,
              "schema": {"type": "string", "enum": ["csv", "ics", "html"]}},
             *SLAM_PLACE, *SLAM,
             _query("date", {"type": "string", "maxLength": 40},
                    "Beginn, z. B. 2027-03-18T18:00 (für .ics nötig).")],
            {"description": "Datei", "content": {
                "text/csv": {"schema": STR}, "text/calendar": {"schema": STR},
                "text/html": {"schema": STR}}}, 400, 404, 503),
    }
    from webapp.profiles_api import OPENAPI_SECURITY, openapi_paths

    for path, ops in openapi_paths().items():
        paths[path] = {**paths.get(path, {}), **ops}
    from webapp.intros_views import openapi_paths as intros_paths

    paths.update(intros_paths())
    return {
        "openapi": "3.0.3",
        "info": {"title": "matcher API", "version": "1",
                 "description": "Partner, Nähe und Inno-Slam-Line-ups für Sachsens "
                                "Innovationsakteure. Fehler haben immer die Form "
                                '{"ok": false, "error": "…", "status": 400}.'},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": OPENAPI_SECURITY},
    }


@bp.get("/api/openapi.json")
def openapi_json():
    return jsonify(spec())
