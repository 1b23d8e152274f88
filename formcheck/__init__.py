"""formcheck: deadlift and running form from an ordinary side-view phone video.

    from formcheck import analyze_video
    result = analyze_video("set.mp4", exercise="deadlift", out_dir="out/")
    result.report["reps"]
"""
import os

# MediaPipe's C++ logging is noisy on stderr; keep warnings and info out of the user's terminal.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = ["analyze_video", "Result", "FormcheckError"]


def __getattr__(name):
    # Lazy, so that formcheck.synthetic (rendered in its own torch environment, without
    # mediapipe) can be imported without pulling in the pipeline.
    if name in ("analyze_video", "Result"):
        from . import pipeline
        return getattr(pipeline, name)
    if name == "FormcheckError":
        from .types import FormcheckError
        return FormcheckError
    raise AttributeError(name)
