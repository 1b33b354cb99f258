"""A sentence-transformers model run by OpenVINO from its ONNX export.

OpenVINO's CPU plugin reads the export of :mod:`matcher.embed.st_onnx` and, by default,
computes in bfloat16 on a CPU with bfloat16 matrix units (AMX, AVX512-BF16) and in float32
elsewhere. Accumulation and normalisation stay in float32, so the vectors agree with the float
ones to a cosine of about 0.9999 (tested) and share their ``model_id``. Tokenisation and
pooling are those of :class:`matcher.embed.st_onnx.ExportedSentenceEncoder`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from matcher.embed.base import require
from matcher.embed.st_onnx import ExportedSentenceEncoder, Pipeline


def available() -> bool:
    """True when the ``openvino`` package can be imported."""
    try:
        require("openvino", "openvino")
    except Exception:  # MissingPackageError, or a broken install
        return False
    return True


class OpenVinoSentenceEncoder(ExportedSentenceEncoder):
    """An exported transformer compiled by OpenVINO for the CPU (latency mode).

    ``threads`` caps the CPU threads of one inference (``None``: OpenVINO's default). Each
    calling thread gets its own inference request, so concurrent requests of a server do not
    share one.
    """

    def __init__(self, model_dir: Path, model_file: Path, pipeline: Pipeline,
                 threads: int | None = None) -> None:
        ov: Any = require("openvino", "openvino")
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        self._compiled = ov.Core().compile_model(str(model_file), "CPU", config)
        hint = self._compiled.get_property("INFERENCE_PRECISION_HINT")  # e.g. bf16, f32
        self.precision = {"bf16": "bfloat16", "f32": "float32", "f16": "float16"}.get(
            hint.get_type_name(), hint.get_type_name())
        self._local = threading.local()
        super().__init__(model_dir, pipeline,
                         [port.get_any_name() for port in self._compiled.inputs])

    def _hidden(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        # copy: the request reuses its output buffer on the next call
        return np.array(request.infer(feed)[0], dtype=np.float32)
