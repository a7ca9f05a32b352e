"""costkit.exercises: expected answers computed by costkit (checked here against the formulas
the questions give), right / close / wrong with the usual mistakes named, never the answer, bad
input."""

import math
from pathlib import Path

import numpy as np
import pytest

from costkit import exercises as ex
from costkit._tables import UnknownNameError

ROOT = Path(__file__).resolve().parents[1]


def test_every_notebook_has_three_exercises():
    by_nb = {}
    for k in ex.EXERCISES:
        by_nb.setdefault(k.split(".")[0], []).append(k)
    assert {nb: len(ids) for nb, ids in by_nb.items()} == {f"0{i}": 3 for i in range(0, 8)}


def test_each_tolerance_is_stated_and_accepted():
    # the rounded answers a student writes are right, and the notebooks say what is accepted
    assert ex.check("06.1", 293).right and ex.check("06.3", 0.0093).right
    assert ex.check("07.2", 19.2).right and ex.check("05.2", 0.28).right
    assert "accepted: within ±0.5 USD" in str(ex.check("06.1", 293))
    assert not ex.check("06.1", 292.9).right       # 0.55 USD off: outside ±0.5
    import glob
    import json
    import re

    for path in glob.glob(str(ROOT / "notebooks" / "0*.ipynb")):
        nb = json.load(open(path, encoding="utf-8"))
        num = re.search(r"(\d\d)_[^/]*$", path).group(1)
        cells = ["".join(c["source"]) for c in nb["cells"]
                 if "exercise" in c.get("metadata", {}).get("tags", [])]
        assert len(cells) == 1, path
        for k in sorted(i for i in ex.EXERCISES if i.startswith(num + ".")):
            assert f"accepted: {ex.EXERCISES[k].tolerance}" in cells[0], (path, k)


@pytest.mark.parametrize("exercise_id, by_hand", [
    # the origin's example: compute 1*1 + 0.1*0.5 + 0.05*0.2 + 0.2*0.1 = 1.08 USD, storage
    # 200 GB x 0.023 USD/GB-month x 6 months = 27.6 USD
    ("01.1", 1.08 + 200 * 0.023 * 6),
    ("01.2", 50 - 50 * 0.023),
    ("02.1", 6 * 3.35e8 * 7.68e9 / (0.40 * 312e12 * 3600)),
    ("02.2", 3),      # 13.0e9 x 16 bytes / (0.9 x 80 x 2**30) = 2.7 -> 3
    ("03.1", 2 * 32 * 8 * 128 * 2 / 1024),
    ("03.3", math.ceil(100 / (30 * 0.7))),
    ("04.2", 27 + 12 + 6 + 4),   # ceil(4/(s+1) 3**s) for s = 3..0
    ("04.3", math.ceil(math.log(0.1) / math.log(0.9))),
    ("05.1", 6000 / 1500),
    ("05.2", 0.50 / 180 * 100),
    ("05.3", 8_030_261_248 - 4 * (2 * 4096**2 + 2 * 4096 * 1024 + 3 * 4096 * 14336)),
    ("06.1", -10_000 + sum(3_500 / 1.01**t for t in (1, 2, 3))),
    ("06.2", 3.0),
    ("07.1", 2.0 * 10 * 0.7),
    ("07.2", (40 - 11.5) / 1.4826),
    ("07.3", 200 / 100 / 0.5 * 2.0),
])
def test_expected_answers_match_the_hand_formulas(exercise_id, by_hand):
    assert ex.expected(exercise_id) == pytest.approx(by_hand, rel=1e-3)
    assert ex.check(exercise_id, by_hand).status == "right"


def test_every_expected_answer_is_right_and_every_mistake_is_named():
    for k, e in ex.EXERCISES.items():
        want = ex.expected(k)
        assert np.isfinite(want)
        assert ex.check(k, want).right, k
        for wrong, hint in e.mistakes:
            value = float(wrong())
            # a mistake is never accepted as right (it may sit inside the close band: the
            # mistake's own hint is then the more useful one, and it is checked first)
            assert not math.isclose(value, want, rel_tol=e.rtol, abs_tol=e.atol), (k, hint)
            r = ex.check(k, value)
            assert r.status == "wrong" and r.message == hint, (k, r)


def test_close_answers_get_the_hint_and_far_ones_are_wrong():
    want = ex.expected("06.1")
    r = ex.check("06.1", want * 1.02)
    assert r.status == "close" and "within 5%" in r.message
    assert ex.check("06.1", want + 0.4).right                 # atol 0.5 USD
    assert ex.check("06.1", want * 2).status == "wrong"
    assert ex.check("04.3", ex.expected("04.3") - 0.15).status == "close"   # 21.85: round up
    assert "round" in ex.check("04.3", 21.85).message


def test_known_mistakes_from_the_issue():
    assert "sparse TFLOPS" in ex.check("02.1", ex.expected("02.1") / 2).message
    naive = ex.EXERCISES["01.1"].mistakes[1][0]()
    assert "add GB to money" in ex.check("01.1", naive).message
    assert "KV heads" in ex.check("03.1", 512).message


def test_messages_never_reveal_the_expected_value():
    for k in ex.EXERCISES:
        want = ex.expected(k)
        shown = {f"{want:.2f}", f"{want:,.2f}", f"{want:.4g}", f"{want:,.0f}", f"{want:g}"}
        for answer in (want * 1.03, want * 3 + 1, -want - 7):
            msg = str(ex.check(k, answer)).replace(ex.EXERCISES[k].question, "")
            assert not any(s in msg for s in shown if len(s.strip("0.,-")) > 1), (k, msg)


def test_not_answered_and_bad_input():
    assert ex.check("06.1", None).status == "not answered"
    checks = ex.check_all("06", None, None, None)
    assert [r.status for r in checks] == ["not answered"] * 3 and not checks.all_right
    assert "06.1 not answered" in repr(checks)
    with pytest.raises(TypeError, match="a number in USD"):
        ex.check("06.1", "293")
    with pytest.raises(TypeError):
        ex.check("06.1", True)
    with pytest.raises(ValueError, match="finite"):
        ex.check("06.1", float("nan"))
    with pytest.raises(UnknownNameError, match="06.1"):
        ex.check("6.1", 1.0)
    with pytest.raises(ValueError, match="3 exercises, got 2"):
        ex.check_all("06", 1, 2)
    with pytest.raises(ValueError, match="no exercises for notebook '09'"):
        ex.check_all("09", 1, 2, 3)


def test_numpy_numbers_are_answers():
    assert ex.check("05.1", np.float64(4.0)).right
    assert ex.check("03.3", np.int64(5)).right
