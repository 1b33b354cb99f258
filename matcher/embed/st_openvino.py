"""A sentence-transformers model run by OpenVINO from its ONNX export.

OpenVINO's CPU plugin reads the export of :mod:`matcher.embed.st_onnx` and, by default,
computes in bfloat16 on a CPU with bfloat16 matrix units (AMX, AVX512-BF16) and in float32
elsewhere. Accumulation and normalisation stay in float32, so the vectors agree with the float
ones to a cosine of about 0.9999 (tested) and share their ``model_id``. Tokenisation and
pooling are those of :class:`matcher.embed.st_onnx.ExportedSentenceEncoder`.

A single text (a query) runs on a copy of the graph compiled for a fixed length: it is padded
to the next of ``static_lengths`` tokens, which the attention mask hides from every token and
from the pooling. A graph of fixed shape skips OpenVINO's shape work on every call: one query of
the judged set took 1.98 instead of 2.43 ms p50 (MiniLM, AMX machine, docs/BENCHMARKS.md). Each
length is compiled when a text first needs it and costs about the model's size in memory
again; batches and longer texts run on the graph of dynamic shape.

Compiled graphs are shared by all encoders of one process that run the same export with the
same settings (an index build and the query side of a server, say), and freed with the last.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from matcher.embed.base import require
from matcher.embed.st_onnx import ExportedSentenceEncoder, Pipeline

_GRAPHS: weakref.WeakValueDictionary[tuple[Any, ...], Any] = weakref.WeakValueDictionary()
_GRAPHS_LOCK = threading.Lock()


def compiled_graph(model_file: Path, length: int | None, config: dict[str, Any]) -> Any:
    """The export compiled for the CPU: shape ``[1, length]``, or dynamic for ``None``.

    One compilation per process for the same file (path, size, modification time), length and
    ``config``, as long as someone holds it.
    """
    ov: Any = require("openvino", "openvino")
    stat = model_file.stat()
    key = (str(model_file.resolve()), stat.st_size, stat.st_mtime_ns, length,
           tuple(sorted(config.items())))
    with _GRAPHS_LOCK:
        graph = _GRAPHS.get(key)
        if graph is None:
            core = ov.Core()
            model = core.read_model(str(model_file))
            if length is not None:
                model.reshape({port.get_any_name(): ov.PartialShape([1, length])
                               for port in model.inputs})
            graph = _GRAPHS[key] = core.compile_model(model, "CPU", config)
        return graph


def available() -> bool:
    """True when the ``openvino`` package can be imported."""
    try:
        require("openvino", "openvino")
    except Exception:  # MissingPackageError, or a broken install
        return False
    return True


class OpenVinoSentenceEncoder(ExportedSentenceEncoder):
    """An exported transformer compiled by OpenVINO for the CPU (latency mode).

    ``threads`` caps the CPU threads of one inference (``None``: OpenVINO's default).
    ``static_lengths``: token lengths with a graph of fixed shape for single texts (empty: none).
    Each calling thread gets its own inference requests, so concurrent requests of a server do
    not share one.
    """

    def __init__(self, model_dir: Path, model_file: Path, pipeline: Pipeline,
                 threads: int | None = None, static_lengths: tuple[int, ...] = ()) -> None:
        self._model_file = model_file
        self._config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads:
            self._config["INFERENCE_NUM_THREADS"] = int(threads)
        self._compiled = compiled_graph(model_file, None, self._config)
        hint = self._compiled.get_property("INFERENCE_PRECISION_HINT")  # e.g. bf16, f32
        self.precision = {"bf16": "bfloat16", "f32": "float32", "f16": "float16"}.get(
            hint.get_type_name(), hint.get_type_name())
        self.static_lengths = tuple(sorted({int(n) for n in static_lengths
                                            if 0 < int(n) <= pipeline.max_seq_length}))
        self._static: dict[int, Any] = {}  # length -> compiled graph of shape [1, length]
        self._local = threading.local()
        super().__init__(model_dir, pipeline,
                         [port.get_any_name() for port in self._compiled.inputs])

    def _request(self, length: int | None) -> Any:
        """This thread's inference request for the dynamic graph (``None``) or a fixed one."""
        requests = getattr(self._local, "requests", None)
        if requests is None:
            requests = self._local.requests = {}
        if length not in requests:
            if length is None:
                graph = self._compiled
            else:  # held by this encoder from now on (setdefault: atomic under the GIL)
                graph = self._static.setdefault(
                    length, compiled_graph(self._model_file, length, self._config))
            requests[length] = graph.create_infer_request()
        return requests[length]

    def _hidden(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        rows, tokens = feed["input_ids"].shape
        length = next((n for n in self.static_lengths if n >= tokens), None) if rows == 1 \
            else None
        if length is not None and length > tokens:  # padding: attention mask 0, ids 0
            feed = {name: np.pad(a, ((0, 0), (0, length - tokens))) for name, a in feed.items()}
        # copy: the request reuses its output buffer on the next call
        hidden = np.array(self._request(length).infer(feed)[0], dtype=np.float32)
        return hidden[:, :tokens]
