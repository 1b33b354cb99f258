"""The ONNX runtime of sentence-transformers models: pipeline detection, export cache, vectors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from matcher.embed import create_embedder, st_onnx
from matcher.embed.sentence_transformers import SentenceTransformerEmbedder, bulk_runtime
from matcher.errors import ConfigError, MissingPackageError
from matcher.settings import load_settings

GERMAN = [
    "Laserstrahlschweißen dünner Edelstahlbleche für die Medizintechnik",
    "Wir suchen eine Hochschule für die Prüfung von Oberflächen in Freiberg.",
    "Größere Übungsräume für Schülerinnen und Schüler im Erzgebirge",
    "Brot mit längerer Haltbarkeit ohne Zusatzstoffe",
    "Ö",
    "Gründerzentrum mit Reinraum, Laboren und Coworking-Flächen in Chemnitz; Beratung zu "
    "Fördermitteln, Patenten und Finanzierung für junge Technologieunternehmen. " * 6,
]


def _model_dir(root: Path, modules: list[str], pooling: dict[str, bool] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Normalize": "2_Normalize",
             "Dense": "2_Dense"}
    (root / "modules.json").write_text(json.dumps([
        {"idx": i, "name": str(i), "path": paths[m],
         "type": f"sentence_transformers.models.{m}"} for i, m in enumerate(modules)]))
    (root / "1_Pooling").mkdir(exist_ok=True)
    (root / "1_Pooling" / "config.json").write_text(json.dumps(
        pooling or {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}))
    (root / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    (root / "tokenizer.json").write_text("{}")
    (root / "model.safetensors").write_bytes(b"weights v1")
    return root


def test_pipeline_of_supported_and_unsupported_models(tmp_path):
    ok = st_onnx.read_pipeline(_model_dir(tmp_path / "a", ["Transformer", "Pooling",
                                                          "Normalize"]))
    assert ok == st_onnx.Pipeline(128, ("mean",), True, False)
    both = st_onnx.read_pipeline(_model_dir(tmp_path / "b", ["Transformer", "Pooling"], {
        "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True}))
    assert both is not None and both.pooling == ("cls", "mean") and not both.normalize
    assert st_onnx.read_pipeline(_model_dir(tmp_path / "c", ["Transformer", "Pooling",
                                                             "Dense"])) is None
    assert st_onnx.read_pipeline(_model_dir(tmp_path / "d", ["Transformer", "Pooling"], {
        "pooling_mode_weightedmean_tokens": True})) is None
    prompted = _model_dir(tmp_path / "p", ["Transformer", "Pooling"])
    (prompted / "config_sentence_transformers.json").write_text(
        '{"prompts": {"query": "query: "}, "default_prompt_name": "query"}')
    assert st_onnx.read_pipeline(prompted) is None
    no_tokenizer = _model_dir(tmp_path / "e", ["Transformer", "Pooling"])
    (no_tokenizer / "tokenizer.json").unlink()
    assert st_onnx.read_pipeline(no_tokenizer) is None
    assert st_onnx.read_pipeline(tmp_path / "missing") is None


@pytest.fixture
def fake_export(monkeypatch):
    calls: list[Path] = []

    def export(model_dir: Path, out: Path) -> None:
        calls.append(model_dir)
        out.write_bytes((model_dir / "model.safetensors").read_bytes())

    monkeypatch.setattr(st_onnx, "_export", export)
    return calls


def test_export_is_cached_atomically_and_redone_when_the_model_changes(tmp_path, fake_export):
    model, cache = _model_dir(tmp_path / "m", ["Transformer", "Pooling"]), tmp_path / "cache"
    first, seconds = st_onnx.ensure_onnx(model, cache)
    assert first.read_bytes() == b"weights v1" and seconds > 0 and cache in first.parents
    again, seconds = st_onnx.ensure_onnx(model, cache)
    assert again == first and seconds == 0.0 and len(fake_export) == 1
    (model / "model.safetensors").write_bytes(b"weights version 2")
    changed, _ = st_onnx.ensure_onnx(model, cache)
    assert changed != first and changed.read_bytes() == b"weights version 2"
    assert len(fake_export) == 2 and not first.parent.exists()  # the outdated export is gone
    assert [p.name for p in changed.parent.iterdir()] == ["model.onnx"]  # no temp files


def test_two_models_keep_their_own_exports(tmp_path, fake_export):
    cache = tmp_path / "cache"
    a, _ = st_onnx.ensure_onnx(_model_dir(tmp_path / "x" / "model", ["Transformer", "Pooling"]),
                               cache)
    b, _ = st_onnx.ensure_onnx(_model_dir(tmp_path / "y" / "model", ["Transformer", "Pooling"]),
                               cache)
    assert a != b and a.is_file() and b.is_file()


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    def broken(model_dir: Path, out: Path) -> None:
        out.write_bytes(b"half")
        raise RuntimeError("export kaputt")

    monkeypatch.setattr(st_onnx, "_export", broken)
    model, cache = _model_dir(tmp_path / "m", ["Transformer", "Pooling"]), tmp_path / "cache"
    with pytest.raises(RuntimeError):
        st_onnx.ensure_onnx(model, cache)
    assert not any(p.is_file() for p in cache.rglob("*"))
    assert not st_onnx.onnx_path(model, cache).exists()


def test_unknown_runtime_and_missing_onnxruntime_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as exc:
        SentenceTransformerEmbedder("packaged:all-minilm-l6-v2", runtime="tensorflow")
    assert "onnx" in exc.value.message
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingPackageError) as missing:
        SentenceTransformerEmbedder("packaged:all-minilm-l6-v2", runtime="onnx",
                                    cache_dir=tmp_path)
    assert "pip install onnxruntime" in missing.value.message


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_exported_model_and_torch_give_the_same_vectors(tmp_path, monkeypatch, runtime):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = load_settings({"data_dir": str(tmp_path), "embed_threads": 1}, environ={})
    onnx = create_embedder(settings.replace(st_runtime=runtime), "minilm")
    torch = create_embedder(settings.replace(st_runtime="torch"), "minilm")
    assert (onnx.runtime, torch.runtime) == (runtime, "torch")
    assert onnx.bulk_runtime == bulk_runtime(runtime, "auto")  # openvino: itself
    assert onnx.model_id == torch.model_id and onnx.dim == torch.dim == 384
    exported = list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))
    assert len(exported) == 1 and onnx.export_seconds > 0
    for encode in ("encode_documents", "encode_queries"):
        a, b = getattr(onnx, encode)(GERMAN), getattr(torch, encode)(GERMAN)
        assert a.dtype == np.float32 and a.shape == b.shape == (len(GERMAN), 384)
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(a * b, axis=1)) >= 0.999
    # one text alone (no padding) equals the same text in a padded batch
    alone = onnx.encode_documents(GERMAN[4:5])[0]
    assert float(alone @ onnx.encode_documents(GERMAN)[4]) >= 0.9999
    reopened = create_embedder(settings, "minilm")
    assert reopened.export_seconds == 0.0
    assert list((tmp_path / "cache" / "onnx").glob("*/model.onnx")) == exported


def test_int8_copy_is_made_once_beside_its_export(tmp_path, fake_export, monkeypatch):
    made: list[Path] = []

    def quantise(model_file: Path, out: Path) -> None:
        made.append(model_file)
        out.write_bytes(b"int8 of " + model_file.read_bytes())

    monkeypatch.setattr(st_onnx, "_quantise", quantise)
    model, cache = _model_dir(tmp_path / "m", ["Transformer", "Pooling"]), tmp_path / "cache"
    exported, _ = st_onnx.ensure_onnx(model, cache)
    small, seconds = st_onnx.ensure_int8(exported)
    assert small.parent == exported.parent and small.read_bytes() == b"int8 of weights v1"
    assert seconds > 0 and st_onnx.ensure_int8(exported) == (small, 0.0) and len(made) == 1
    (model / "model.safetensors").write_bytes(b"weights version 2")
    st_onnx.ensure_onnx(model, cache)
    assert not small.exists()  # went with its outdated export


def test_int8_has_its_own_model_id_and_no_torch_fallback(tmp_path):
    from matcher.indexer import model_id_for

    settings = load_settings({"data_dir": str(tmp_path)}, environ={})
    ids = {rt: model_id_for(settings.replace(st_runtime=rt), "minilm")
           for rt in ("onnx", "torch", "onnx-int8")}
    assert ids["onnx"] == ids["torch"] != ids["onnx-int8"]
    assert model_id_for(settings.replace(st_runtime="onnx-int8"), "st:/models/x") == \
        "st:/models/x+int8"
    plain = tmp_path / "not-a-model"
    plain.mkdir()
    with pytest.raises(ConfigError) as exc:
        SentenceTransformerEmbedder(str(plain), runtime="onnx-int8", cache_dir=tmp_path)
    assert "8-bit" in exc.value.message and "st_runtime" in exc.value.message


@pytest.mark.slow
def test_int8_vectors_stay_close_to_the_float_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = load_settings({"data_dir": str(tmp_path), "embed_threads": 1}, environ={})
    full = create_embedder(settings.replace(st_runtime="onnx"), "minilm")
    small = create_embedder(settings.replace(st_runtime="onnx-int8"), "minilm")
    assert small.runtime == "onnx-int8" and small.model_id == full.model_id + "+int8"
    assert len(list((tmp_path / "cache" / "onnx").glob("*/model.int8-v2.onnx"))) == 1
    a, b = full.encode_documents(GERMAN), small.encode_documents(GERMAN)
    cos = np.sum(a * b, axis=1)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert cos.min() >= 0.98 and cos.mean() >= 0.99
    # the nearest document of each query is the same as with the float model
    queries = ["Schweißen von Blechen", "Lebensmittel länger haltbar", "Labor und Reinraum"]
    qa, qb = full.encode_queries(queries), small.encode_queries(queries)
    assert list((qa @ a.T).argmax(axis=1)) == list((qb @ b.T).argmax(axis=1))


def test_bulk_runtime_is_bf16_only_where_the_cpu_has_it(tmp_path):
    from matcher.embed.sentence_transformers import native_bf16

    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_bf16 amx_tile\n")
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n")
    assert native_bf16(amx) and not native_bf16(plain)
    assert not native_bf16(tmp_path / "missing")
    assert bulk_runtime("onnx", "auto", amx) == "torch-bf16"
    assert bulk_runtime("torch", "auto", amx) == "torch-bf16"
    assert bulk_runtime("onnx", "auto", plain) == "onnx"
    assert bulk_runtime("onnx", "torch-bf16", plain) == "torch-bf16"  # asked for: emulated
    assert bulk_runtime("onnx", "same", amx) == "onnx"
    # the 8-bit model's document vectors must come from the 8-bit model
    assert bulk_runtime("onnx-int8", "torch-bf16", amx) == "onnx-int8"
    # OpenVINO embeds a bulk in bfloat16 itself; torch only when asked for
    assert bulk_runtime("openvino", "auto", amx) == "openvino"
    assert bulk_runtime("openvino", "torch-bf16", amx) == "torch-bf16"
    with pytest.raises(ConfigError) as exc:
        bulk_runtime("onnx", "fp8", amx)
    assert "st_bulk_runtime" in exc.value.message


@pytest.mark.slow
def test_bf16_bulk_documents_match_the_float_vectors(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = load_settings({"data_dir": str(tmp_path), "embed_threads": 1,
                              "embed_batch_size": 2}, environ={})
    settings = settings.replace(st_runtime="onnx")
    full = create_embedder(settings.replace(st_bulk_runtime="same"), "minilm")
    bulk = create_embedder(settings.replace(st_bulk_runtime="torch-bf16"), "minilm")
    queries = create_embedder(settings.replace(st_bulk_runtime="torch-bf16"), "minilm",
                              for_queries=True)
    assert (full.bulk_runtime, bulk.bulk_runtime, queries.bulk_runtime) == (
        "onnx", "torch-bf16", "onnx")
    assert bulk.model_id == full.model_id  # same vectors, one embedding cache
    one = bulk.encode_documents(GERMAN[:1])  # fewer than a batch: the ONNX model, no torch
    assert bulk._model is None and np.allclose(one, full.encode_documents(GERMAN[:1]),
                                               atol=1e-5)
    a, b = full.encode_documents(GERMAN), bulk.encode_documents(GERMAN)
    assert bulk._model is not None and b.dtype == np.float32 and b.shape == a.shape
    assert not np.allclose(a, b, atol=1e-6)  # another runtime indeed
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(a * b, axis=1)) >= 0.999


def test_auto_runtime_is_openvino_where_the_cpu_has_bf16_and_it_is_installed(tmp_path,
                                                                             monkeypatch):
    from matcher.embed.sentence_transformers import resolve_runtime

    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("flags\t\t: fpu avx512f avx512_bf16\n")
    plain.write_text("flags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert resolve_runtime("auto", amx) == "openvino"
    assert resolve_runtime("auto", plain) == "onnx"
    assert resolve_runtime("onnx", amx) == "onnx" and resolve_runtime("torch", amx) == "torch"
    with pytest.raises(ConfigError) as exc:
        resolve_runtime("tensorrt", amx)
    assert "st_runtime" in exc.value.message and "openvino" in exc.value.message
    monkeypatch.setitem(sys.modules, "openvino", None)  # not installed
    assert resolve_runtime("auto", amx) == "onnx"
    with pytest.raises(MissingPackageError) as missing:
        SentenceTransformerEmbedder("packaged:all-minilm-l6-v2", runtime="openvino",
                                    cache_dir=tmp_path)
    assert "pip install openvino" in missing.value.message


@pytest.mark.slow
def test_openvino_answers_concurrent_queries_each_with_its_own_request(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = load_settings({"data_dir": str(tmp_path), "st_runtime": "openvino"}, environ={})
    ov = create_embedder(settings, "minilm", for_queries=True)
    assert ov.runtime == "openvino" and ov.precision in ("bfloat16", "float32")
    serial = [ov.encode_queries([t])[0] for t in GERMAN]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda t: ov.encode_queries([t])[0], GERMAN * 4))
    for i, vec in enumerate(together):
        assert float(vec @ serial[i % len(GERMAN)]) >= 0.9999


def test_static_lengths_setting_is_parsed_or_refused_clearly():
    from matcher.embed.sentence_transformers import parse_lengths

    assert parse_lengths("64,128") == (64, 128) and parse_lengths(" 32 , 8,") == (32, 8)
    assert parse_lengths("") == ()
    for bad in ("64;128", "0", "-8", "64,zwei"):
        with pytest.raises(ConfigError) as exc:
            parse_lengths(bad)
        assert "st_static_lengths" in exc.value.message and "64,128" in exc.value.message


@pytest.mark.slow
def test_openvino_pads_single_texts_to_a_fixed_length_with_the_same_vectors(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = load_settings({"data_dir": str(tmp_path), "st_runtime": "openvino",
                              "st_static_lengths": "16,40,1000"}, environ={})
    ov = create_embedder(settings, "minilm", for_queries=True)
    encoder = ov._onnx
    assert encoder.static_lengths == (16, 40)  # above the model's 256 tokens: left out
    tokens = [len(encoder._tok.encode(t).ids) for t in GERMAN]
    assert min(tokens) <= 16 < max(t for t in tokens if t <= 40) and max(tokens) > 40
    batch = ov.encode_documents(GERMAN)  # the dynamic graph
    assert encoder._static == {}
    for text, row in zip(GERMAN, batch, strict=True):
        alone = ov.encode_queries([text])[0]
        assert float(alone @ row) >= 0.9999
    assert sorted(encoder._static) == [16, 40]  # compiled on first use; the long text: dynamic
    # a second encoder of the same export and settings in this process shares the graphs
    again = create_embedder(settings, "minilm")._onnx
    assert again._compiled is encoder._compiled and again._static == {}
    assert float(again.encode(GERMAN[4:5])[0] @ batch[4]) >= 0.9999
    assert again._static[16] is encoder._static[16]
    plain = create_embedder(settings.replace(st_static_lengths=""), "minilm", for_queries=True)
    assert plain._onnx.static_lengths == ()
    assert float(plain.encode_queries(GERMAN[:1])[0] @ batch[0]) >= 0.9999
    assert plain._onnx._static == {}
