"""formcheck: deadlift and running form from an ordinary side-view phone video.

    from formcheck import analyze_video
    result = analyze_video("set.mp4", exercise="deadlift", out_dir="out/")
    result.report["reps"]
"""
import os

# MediaPipe's C++ logging is noisy on stderr; keep warnings and info out of the user's terminal.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .pipeline import Result, analyze_video  # noqa: E402
from .types import FormcheckError  # noqa: E402

__all__ = ["analyze_video", "Result", "FormcheckError"]
