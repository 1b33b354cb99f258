"""The Ray path of ``matcher index`` yields the same vectors and index as one machine."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from matcher.distributed import shards
from matcher.indexer import build_hashes, build_index, load_index


def test_shards_cover_the_input_in_order():
    assert shards(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert shards(2, 4) == [(0, 1), (1, 2)]
    assert shards(0, 2) == []


@pytest.mark.slow
def test_ray_local_cluster_builds_the_same_index(loaded_store, settings, tmp_path):
    pytest.importorskip("ray")
    from click.testing import CliRunner

    from matcher.cli import cli
    from matcher.store import Store

    # the same corpus twice: one data directory indexed on one machine, a copy through Ray
    single_dir = tmp_path / "single"
    loaded_store.close()
    shutil.copytree(loaded_store.data_dir, single_dir)
    single_settings = settings.replace(data_dir=str(single_dir))
    with Store(single_dir) as single:
        build_index(single, single_settings)
        one = load_index(single, single_settings)

    env = {"MATCHER_EMBEDDER": "hashing", "MATCHER_SENTENCE_EMBEDDER": "hashing"}
    result = CliRunner().invoke(
        cli, ["--data-dir", str(loaded_store.data_dir), "index", "--ray", "local", "--json"],
        env=env)
    try:
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["embedded"] == 20  # all 20 embedded by the workers
        with Store(loaded_store.data_dir) as again:
            two = load_index(again, settings)
            assert again.count() == 20
    finally:
        import ray

        ray.shutdown()

    for key in ("model_id", "sentence_model_id", "dim", "count", "corpus_digest", "index_kind"):
        assert one.manifest[key] == two.manifest[key], key
    assert build_hashes(one.manifest)["doc_hashes"] == build_hashes(two.manifest)["doc_hashes"]
    assert len(build_hashes(one.manifest)["doc_hashes"]) == 20
    ids = one.docs.ids()
    np.testing.assert_array_equal(ids, two.docs.ids())
    np.testing.assert_array_equal(one.docs.vectors(ids), two.docs.vectors(ids))
    np.testing.assert_array_equal(one.sent_vectors, two.sent_vectors)
    query = one.docs.vectors(ids[:3])
    for a, b in zip(one.docs.search(query, 5), two.docs.search(query, 5), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unreachable_cluster_is_a_clear_error(loaded_store, settings, monkeypatch):
    ray = pytest.importorskip("ray")
    from matcher.distributed import connect
    from matcher.errors import ConfigError

    monkeypatch.setattr(ray, "is_initialized", lambda: False)

    def refuse(**kwargs):
        raise ConnectionError("no cluster")

    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(ConfigError, match=r"nicht erreichbar.*--ray local"):
        connect("ray-head.invalid:6379")
