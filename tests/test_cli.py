from __future__ import annotations

import json

import pytest

from matcher.cli import cli
from tests.conftest import PROFILES
from tests.test_ingest import write_mixed


def run(runner, data_dir, *args):
    return runner.invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)


def test_geo_json(runner, data_dir):
    result = run(runner, data_dir, "geo", "Freiberg", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["district"] == "Landkreis Mittelsachsen"
    assert data["lat"] == pytest.approx(50.91, abs=0.03)
    assert data["lon"] == pytest.approx(13.34, abs=0.03)


def test_geo_distance(runner, data_dir):
    result = run(runner, data_dir, "geo", "Dresden", "--to", "Leipzig", "--json")
    assert json.loads(result.stdout)["distance_km"] == pytest.approx(100, abs=8)


def test_geo_ambiguous_asks(runner, data_dir):
    result = run(runner, data_dir, "geo", "Oelsnitz")
    assert result.exit_code == 1
    assert "Oelsnitz/Erzgeb." in result.output and "Oelsnitz/Vogtl." in result.output


def test_geo_readable_umlauts(runner, data_dir):
    result = run(runner, data_dir, "geo", "Weißwasser/O.L.")
    assert "Landkreis Görlitz" in result.output


def test_ingest_stats_show_remove(runner, data_dir):
    result = run(runner, data_dir, "ingest", str(PROFILES))
    assert result.exit_code == 0
    assert "20 neu" in result.output
    stats = json.loads(run(runner, data_dir, "stats", "--json").stdout)
    assert stats["total"] == 20
    assert set(stats) == {"total", "by_kind", "by_district"}
    assert stats["by_kind"]["researcher"] == 3
    text = run(runner, data_dir, "stats").output
    assert "Forschende" in text and "Erzgebirgskreis" in text
    shown = json.loads(run(runner, data_dir, "show", "t-co-02", "--json").stdout)
    assert shown["city"] == "Seiffen/Erzgeb." and shown["district"] == "Erzgebirgskreis"
    assert "Räuchermänner" in run(runner, data_dir, "show", "t-co-02").output
    removed = run(runner, data_dir, "remove", "t-co-02", "--json")
    assert json.loads(removed.stdout) == {"removed": ["t-co-02"]}
    missing = run(runner, data_dir, "show", "t-co-02")
    assert missing.exit_code == 1 and "t-co-02" in missing.output


def test_ingest_broken_file_exits_nonzero_and_names_all(runner, data_dir, tmp_path):
    mixed = tmp_path / "gemischt.jsonl"
    lines = write_mixed(mixed)
    result = run(runner, data_dir, "ingest", str(mixed))
    assert result.exit_code == 1
    for line in lines:
        assert f"{mixed}:{line}:" in result.output
    assert json.loads(run(runner, data_dir, "stats", "--json").stdout)["total"] == 0
    rejects = tmp_path / "rejects.jsonl"
    ok = run(runner, data_dir, "ingest", str(mixed), "--skip-invalid", "--rejects", str(rejects),
             "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["inserted"] == 20
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 5


def test_ingest_directory(runner, data_dir, tmp_path):
    folder = tmp_path / "korpus"
    folder.mkdir()
    (folder / "a.jsonl").write_text(PROFILES.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "notizen.md").write_text("keine Daten", encoding="utf-8")
    result = run(runner, data_dir, "ingest", str(folder), "--json")
    assert json.loads(result.stdout)["inserted"] == 20


def test_data_dir_from_environment(runner, tmp_path):
    target = tmp_path / "env-daten"
    result = runner.invoke(cli, ["ingest", str(PROFILES)], env={"MATCHER_DATA_DIR": str(target)})
    assert result.exit_code == 0
    assert (target / "matcher.db").exists()


def test_regions_lists_districts_and_custom(runner, data_dir):
    names = [r["name"] for r in json.loads(run(runner, data_dir, "regions", "--json").stdout)]
    assert len([n for n in names if n]) >= 14 and "Erzgebirgskreis" in names and "Lausitz" in names
