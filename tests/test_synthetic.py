from __future__ import annotations

import json

from matcher.ingest import ingest_files
from matcher.synthetic import generate_profiles


def test_seeded_and_valid(store, gazetteer, tmp_path):
    a = list(generate_profiles(300, gazetteer, seed=3))
    assert a == list(generate_profiles(300, gazetteer, seed=3))
    assert a != list(generate_profiles(300, gazetteer, seed=4))
    path = tmp_path / "syn.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in a), encoding="utf-8")
    report = ingest_files(store, [path], gazetteer)
    assert report.inserted == 300 and not report.rejected
