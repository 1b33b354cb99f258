from __future__ import annotations

from matcher.clients import ClientFinder

NAMES = [
    ("c1", "Flöhataler Metallbau GmbH"), ("c2", "Westerzgebirgische Druckguss GmbH"),
    ("c3", "Präzisionsdreherei Uhlig & Söhne GmbH & Co. KG"), ("c4", "Holzwerkstatt Uhlig & Söhne"),
    ("c5", "EMS Zwönitz Elektronikfertigung GmbH"), ("c6", "Metallbau Schneider GmbH"),
    ("c7", "Zwönitzer Metallbau GmbH"),
]


def test_finds_named_company_despite_case_and_inflection():
    finder = ClientFinder(NAMES)
    assert finder.find("Partner für die Flöhataler Metallbau GmbH gesucht") == "c1"
    assert finder.find("Wer hilft der westerzgebirgischen Druckguss bei Porosität?") == "c2"
    assert finder.find("Alte Drehmaschinen der Präzisionsdreherei Uhlig vernetzen") == "c3"


def test_does_not_guess_from_generic_words():
    finder = ClientFinder(NAMES)
    assert finder.find("Wir suchen Metallbau und Schweißen in Zwönitz") is None
    assert finder.find("Uhlig") is None
    assert finder.find("Edelstahlbleche verziehen sich beim Schweißen") is None


def test_a_corpus_of_one_organisation_still_finds_it():
    # every word of the only name is in every name: no word is rarer than another
    finder = ClientFinder([("c1", "Flöhataler Metallbau GmbH")])
    assert finder.find("Partner für die Flöhataler Metallbau GmbH") == "c1"
    assert finder.find("Metallbau in Zwönitz") is None  # one word of two is not the name


def test_without_name_keeps_only_what_the_client_needs():
    from matcher.clients import without_name

    assert without_name("Partner für die Flöhataler Metallbau GmbH: Laserschweißen von Edelstahl",
                        "Flöhataler Metallbau GmbH") == "Partner: Laserschweißen von Edelstahl"
    assert without_name("Wer hilft der westerzgebirgischen Druckguss GmbH bei Porosität?",
                        "Westerzgebirgische Druckguss GmbH") == "Wer hilft bei Porosität?"
    assert without_name("Alte Drehmaschinen der Präzisionsdreherei Uhlig & Söhne vernetzen",
                        "Präzisionsdreherei Uhlig & Söhne GmbH & Co. KG") == (
        "Alte Drehmaschinen vernetzen")
    assert without_name("Schweißen in Zwönitz", "Flöhataler Metallbau GmbH") == (
        "Schweißen in Zwönitz")
    # a request that is nothing but the name stays as it is
    assert without_name("Flöhataler Metallbau GmbH", "Flöhataler Metallbau GmbH") == (
        "Flöhataler Metallbau GmbH")


def test_digest_tells_whether_a_finder_can_be_kept():
    from matcher.clients import names_digest

    finder = ClientFinder(NAMES)
    assert finder.digest == names_digest(NAMES)
    renamed = [*NAMES[:-1], ("c7", "Zwönitzer Metallbau und Stahlbau GmbH")]
    assert names_digest(renamed) != finder.digest
    assert names_digest(list(reversed(NAMES))) != finder.digest  # order decides ties
