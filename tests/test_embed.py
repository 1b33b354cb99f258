from __future__ import annotations

import numpy as np
import pytest

from matcher.embed import create_embedder
from matcher.embed.ensemble import ConcatEmbedder
from matcher.embed.hashing import HashingEmbedder
from matcher.errors import ConfigError
from matcher.settings import load_settings

SIMILAR = ("Laserstrahlschweißen dünner Edelstahlbleche", "Schweißen von dünnem Edelstahlblech")
OTHER = "Brot mit längerer Haltbarkeit ohne Zusatzstoffe"


def cos(a, b):
    return float(np.dot(a, b))


def test_hashing_is_deterministic_normalised_and_meaningful():
    e = HashingEmbedder()
    v = e.encode_documents([*SIMILAR, OTHER])
    assert v.dtype == np.float32 and v.shape == (3, e.dim)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(v, HashingEmbedder().encode_documents([*SIMILAR, OTHER]))
    assert cos(v[0], v[1]) > cos(v[0], v[2])
    assert e.encode_queries([]).shape == (0, e.dim)


def test_batches_group_texts_by_length_and_keep_the_callers_order():
    seen: list[list[str]] = []

    class Recording(HashingEmbedder):
        def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
            seen.append(texts)
            return super()._encode(texts, is_query)

    texts = ["a" * 30, "b", "c" * 10, "d" * 29, "e" * 2]
    recording = Recording()
    recording.batch_size = 2
    out = recording.encode_documents(texts)
    assert seen == [["b", "ee"], ["c" * 10, "d" * 29], ["a" * 30]]
    assert np.array_equal(out, HashingEmbedder().encode_documents(texts))
    for i, t in enumerate(texts):
        assert np.array_equal(out[i], HashingEmbedder().encode_documents([t])[0])


def test_concat_cosine_is_weighted_mean():
    a, b = HashingEmbedder(64), HashingEmbedder(128)
    c = ConcatEmbedder([a, b], [3, 1])
    x, y = c.encode_documents([SIMILAR[0]])[0], c.encode_documents([OTHER])[0]
    expect = 0.75 * cos(a.encode_documents([SIMILAR[0]])[0], a.encode_documents([OTHER])[0]) + \
        0.25 * cos(b.encode_documents([SIMILAR[0]])[0], b.encode_documents([OTHER])[0])
    assert cos(x, y) == pytest.approx(expect, abs=1e-5)
    assert c.dim == 192 and "hashing-64*0.75" in c.model_id


def test_factory_names_and_unknown_backend():
    settings = load_settings({"embedder": "hashing"}, environ={})
    assert create_embedder(settings).model_id == "hashing-256"
    with pytest.raises(ConfigError) as exc:
        create_embedder(settings, "word2vec")
    assert "e5" in exc.value.message


@pytest.mark.slow
@pytest.mark.parametrize("name, dim", [("e5", 384), ("use", 512)])
def test_packaged_german_models(name, dim):
    e = create_embedder(load_settings(environ={}), name)
    docs = e.encode_documents([*SIMILAR, OTHER])
    q = e.encode_queries(["Wer kann Edelstahl verzugsarm schweißen?"])[0]
    assert docs.shape == (3, dim) and e.dim == dim
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert cos(q, docs[0]) > cos(q, docs[2])


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_sentence_transformers_loads_packaged_model_offline(monkeypatch, tmp_path, runtime):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    settings = load_settings({"data_dir": str(tmp_path), "st_runtime": runtime}, environ={})
    e = create_embedder(settings, "minilm")
    assert e.model_id == "st:packaged:all-minilm-l6-v2" and e.dim == 384
    assert e.runtime == runtime
    v = e.encode_documents(["Laser welding of thin stainless steel sheets",
                            "Welding thin stainless sheet metal", "Bread that stays fresh longer"])
    assert v.shape == (3, 384)
    assert cos(v[0], v[1]) > cos(v[0], v[2])


@pytest.mark.slow
def test_e5_query_threads_are_per_thread_and_change_no_vector():
    from matcher.embed.e5 import E5Embedder

    e = E5Embedder(query_threads=1)
    get = e._model._lib.omp_get_max_threads
    texts = ["Wer kann Edelstahl verzugsarm schweißen?", "Labor für Rauheitsmessung"]
    docs_before = e.encode_documents(texts)
    queries = e.encode_queries(texts)
    assert get() == 1  # this thread encoded a query last
    docs_after = e.encode_documents(texts)
    assert get() == e.threads  # documents get their threads back
    assert np.allclose(docs_before, docs_after, atol=1e-6)
    reference = E5Embedder(query_threads=None).encode_queries(texts)
    assert np.allclose(queries, reference, atol=1e-5)
