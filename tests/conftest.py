import os
from pathlib import Path

import _hyp  # noqa: F401  (loads the hypothesis profile: deterministic unless fuzzing)
import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture
def data_dir():
    return DATA
