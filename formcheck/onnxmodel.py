"""The models shipped in formcheck/models (joint centres, back shape), run with onnxruntime on the
CPU, offline: one session per file, one thread (the pose pass has the other core)."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def session(path: str):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def metadata(path: str) -> dict[str, str]:
    """The key/value pairs the training script wrote into the model file."""
    return dict(session(path).get_modelmeta().custom_metadata_map)
