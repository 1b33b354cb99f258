from __future__ import annotations

import pytest

from matcher.errors import ConfigError, NotFoundError
from matcher.regions import find_region
from matcher.settings import SETTINGS, load_settings


def test_defaults_env_overrides():
    assert load_settings(environ={}).data_dir == "instance"
    assert load_settings(environ={"MATCHER_DATA_DIR": "/tmp/x"}).data_dir == "/tmp/x"
    s = load_settings({"data_dir": "/tmp/y"}, environ={"MATCHER_DATA_DIR": "/tmp/x"})
    assert s.data_dir == "/tmp/y"


def test_types_are_coerced():
    s = load_settings(environ={"MATCHER_ALLOW_OUTSIDE": "ja",
                               "MATCHER_REGIONS": '{"Nord": {"districts": ["Nordsachsen"]}}'})
    assert s.allow_outside is True
    assert s.regions == {"Nord": {"districts": ["Nordsachsen"]}}


def test_bad_values_say_which_setting():
    with pytest.raises(ConfigError) as exc:
        load_settings(environ={"MATCHER_REGIONS": "kein json"})
    assert "MATCHER_REGIONS" in exc.value.message
    with pytest.raises(ConfigError):
        load_settings({"gibt_es_nicht": 1}, environ={})


def test_every_setting_has_help():
    for s in SETTINGS:
        assert s.help and s.name.islower()


def test_custom_regions(gazetteer):
    spec = load_settings(environ={}).regions
    lausitz = find_region("Lausitz", spec, gazetteer)
    assert lausitz.contains(None, None, "Landkreis Görlitz")
    assert not lausitz.contains(None, None, "Leipzig")
    circle = find_region("Region Chemnitz", spec, gazetteer)
    f = gazetteer.resolve("Flöha")
    assert circle.contains(f.lat, f.lon, f.district)
    assert find_region("mittelsachsen", spec, gazetteer).districts == ("Landkreis Mittelsachsen",)
    with pytest.raises(NotFoundError) as exc:
        find_region("Atlantis", spec, gazetteer)
    assert "Erzgebirgskreis" in exc.value.message
