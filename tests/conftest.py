import os
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "videos"))

warnings.filterwarnings("ignore", category=RuntimeWarning)

# The history database (formcheck.history) of every test run, and of the CLI and app processes the
# tests start, is a fresh folder: never the user's ~/.formcheck.
if "FORMCHECK_DATA" not in os.environ or not os.environ.get("FORMCHECK_TEST_KEEP_DATA"):
    import tempfile
    os.environ["FORMCHECK_DATA"] = tempfile.mkdtemp(prefix="formcheck-test-data-")
    os.environ.pop("FORMCHECK_DB_URL", None)


def clip(folder: str, name: str) -> str:
    p = os.path.join(SHARED, folder, name)
    if not os.path.exists(p):
        pytest.skip(f"real clips not available: {p} is missing (../shared sits beside the checkout in CI)")
    return p


@pytest.fixture(scope="session")
def track_of(tmp_path_factory):
    """Pose tracks of real clips, extracted once per test session."""
    from formcheck.extract import extract_pose
    cache: dict = {}

    def get(folder: str, name: str):
        key = (folder, name)
        if key not in cache:
            cache[key] = extract_pose(clip(folder, name))
        return cache[key]
    return get


@pytest.fixture
def landmarks_are_joint_centres(monkeypatch):
    """For stick-figure tracks (tests/synth.py), whose 'landmarks' are placed at the joints: the
    joint-centre correction, learned for where MediaPipe puts landmarks on a body, is switched
    off so a rule test reads back exactly the angle it drew."""
    import numpy as np
    from formcheck import joints
    monkeypatch.setattr(joints, "predict_offsets", lambda X, weights=None: np.zeros((len(X), 2 * len(joints.JOINTS))))
