"""The workshop kit: hand-outs leak no solution, the static HTML builds, and the facilitator guide's
times are those of the committed measurement."""

import re
from pathlib import Path

import nbformat
import pytest

from costkit import exercises, workshop

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GUIDE = (ROOT / "docs" / "workshop.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def handouts(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    paths = workshop.make_handouts(ROOT / "notebooks", out)
    return {p.name: nbformat.read(p, as_version=4) for p in paths}


def _text(nb):
    """Everything a student sees: sources and every output's text."""
    parts = []
    for c in nb.cells:
        parts.append(c.source)
        for o in c.get("outputs", []):
            parts.append(str(o.get("text", "")))
            parts += [str(v) for k, v in o.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


def _forms(value):
    """The ways an answer is usually printed."""
    forms = {f"{value:.2f}", f"{value:,.2f}", f"{value:.3g}", f"{value:,.1f}"}
    if abs(value) >= 1000 or value != round(value):
        forms |= {f"{value:,.0f}", f"{value:.2%}"} if abs(value) < 1 else {f"{value:,.0f}"}
    return {f for f in forms if len(f.strip("0.,%-")) >= 2}


def test_every_notebook_has_a_handout_with_the_same_prose(handouts):
    assert sorted(handouts) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        src = nbformat.read(path, as_version=4)
        out = handouts[path.name]
        kept = [c for c in src.cells if "solution" not in c.metadata.get("tags", [])]
        assert [c.source for c in out.cells] == [c.source for c in kept]
        assert out.metadata["costkit"]["handout"] is True
        assert out.metadata.get("widgets") == src.metadata.get("widgets")   # widgets intact
        charts = sum("image/png" in o.get("data", {}) for c in out.cells
                     for o in c.get("outputs", []))
        assert charts == sum("image/png" in o.get("data", {}) for c in kept
                             for o in c.get("outputs", []))


def test_no_solution_or_answer_leaks_into_a_handout(handouts):
    leaks = []
    for path in NOTEBOOKS:
        src = nbformat.read(path, as_version=4)
        out = handouts[path.name]
        text = _text(out)
        assert not any("solution" in c.metadata.get("tags", []) for c in out.cells)
        for c in out.cells:
            if {"exercise", "check"} & set(c.metadata.get("tags", [])):
                assert c.outputs == [] and c.execution_count is None
        # no line of a solution cell appears in the hand-out
        for c in src.cells:
            if "solution" in c.metadata.get("tags", []):
                for line in c.source.splitlines():
                    line = line.strip()
                    if len(line) > 12 and not line.startswith("#") and line in text:
                        leaks.append((path.name, line))
        # no expected answer, in the ways answers are printed, in the code and outputs of the
        # exercise section (the questions' own inputs, "8 KV heads of 128", are not answers)
        nb = path.name[:2]
        start = next((i for i, c in enumerate(out.cells) if c.cell_type == "markdown"
                      and c.source.lstrip().startswith("## Exercises")), len(out.cells))
        code = nbformat.v4.new_notebook(cells=[c for c in out.cells[start:]
                                               if c.cell_type == "code"])
        section = _text(code)
        for k in exercises.EXERCISES:
            if k.startswith(nb + "."):
                for f in _forms(exercises.expected(k)):
                    if f in section:
                        leaks.append((path.name, k, f))
                    # nor anywhere in the notebook when the printed form is distinctive
                    elif len(f.strip("0.,%-")) >= 4 and f in text:
                        leaks.append((path.name, k, f, "in the body"))
    assert leaks == []


def test_the_leak_test_would_catch_a_leak(handouts, tmp_path):
    src = nbformat.read(ROOT / "notebooks" / "06_roi_case_study.ipynb", as_version=4)
    for c in src.cells:
        if "solution" in c.metadata.get("tags", []):
            c.metadata["tags"] = []   # forgotten tag: the solution stays in the hand-out
    leaked = _text(workshop.handout(src))
    assert "reranker.replace(fixed_usd_per_month=21_000 + 500)" in leaked
    assert "293.45" in leaked  # the solution's printed NPV is there too


def test_handout_check_cells_say_not_answered(handouts):
    out = handouts["06_roi_case_study.ipynb"]
    (cell,) = [c for c in out.cells if "check" in c.metadata.get("tags", [])]
    assert "check_all" in cell.source
    (answers,) = [c for c in out.cells if "exercise" in c.metadata.get("tags", [])]
    assert "answer_1 = None" in answers.source


def test_static_html_has_an_index_and_every_notebook(tmp_path):
    index = workshop.render_html(ROOT / "notebooks", tmp_path)
    page = index.read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        name = path.with_suffix(".html").name
        assert f"href='{name}'" in page
        html = (tmp_path / name).read_text(encoding="utf-8")
        assert "<img" in html or path.stem == "00_welcome" or "data:image/png" in html
        assert "Traceback" not in html
    roi = (tmp_path / "06_roi_case_study.html").read_text(encoding="utf-8")
    assert "An interactive panel is here" in roi
    assert "application/vnd.jupyter.widget-view+json" not in roi
    assert "06 · ROI case study" in page


def test_guide_times_are_the_committed_measurement():
    t = workshop.read_timings(ROOT / "docs" / "notebook_timings.csv")
    assert list(t.index) == [p.stem for p in NOTEBOOKS]
    assert (t.run_seconds > 0).all()
    for _, r in t.iterrows():
        # the teaching minutes follow the stated model from the counts and the run time
        assert r.teach_minutes == round(workshop.teach_minutes(
            r.markdown_words, r.code_cells, r.charts, r.panels, r.exercises, r.run_seconds))
        assert r.core_teach_minutes <= r.teach_minutes
    # the guide's table and agendas are exactly what make timings writes from the csv
    assert workshop.guide_section(t) in GUIDE
    assert "662.0" not in GUIDE and "1.0 charts" not in GUIDE
    # the half day fits three hours, breaks included; every notebook has its exercises
    assert workshop.agenda_minutes(t, **workshop.HALF_DAY) <= workshop.HALF_DAY_MINUTES
    assert (t.exercises == 3).all()
    assert re.search(r"measured \d{4}-\d{2}-\d{2} by `make timings`",
                     (ROOT / "docs" / "notebook_timings.csv").read_text())


def test_write_guide_replaces_only_the_measured_section(tmp_path):
    t = workshop.read_timings(ROOT / "docs" / "notebook_timings.csv")
    guide = tmp_path / "workshop.md"
    guide.write_text(f"# head\n{workshop.GUIDE_BEGIN}\nold table\n{workshop.GUIDE_END}\n"
                     "## tail\n", encoding="utf-8")
    workshop.write_guide(t, guide)
    text = guide.read_text(encoding="utf-8")
    assert "old table" not in text and text.startswith("# head") and text.endswith("## tail\n")
    assert workshop.guide_section(t) in text
    workshop.write_guide(t, guide)               # idempotent
    assert guide.read_text(encoding="utf-8") == text
    guide.write_text("no markers", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        workshop.write_guide(t, guide)


def test_optional_sections_are_left_out_of_the_core_count():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "06_roi_case_study.ipynb", as_version=4)
    full, core = workshop._counts(nb), workshop._counts(nb, core=True)
    assert core["markdown_words"] < full["markdown_words"]
    assert core["charts"] < full["charts"] or core["code_cells"] < full["code_cells"]


def test_guide_has_goals_misconceptions_and_questions_for_every_notebook():
    for path in NOTEBOOKS:
        assert GUIDE.count(f"`{path.stem}`") >= 2, path.stem    # timings table and goals
    for heading in ("## Learning goals", "## Misconceptions the sequence corrects",
                    "## Discussion questions", "## Agendas", "make wheelhouse",
                    "make lab OFFLINE=1", "make handouts", "make html"):
        assert heading in GUIDE
    assert "gigabytes to money" in GUIDE.lower() or "adding gigabytes to money" in GUIDE.lower()


def test_teach_minutes_model_by_hand():
    # 1,100 words at 110 a minute = 10; 2 charts x 1.5 = 3; 1 panel = 6; 3 exercises = 18;
    # 10 code cells x 0.5 = 5; 60 s of running = 1: 43 minutes
    assert workshop.teach_minutes(1100, 10, 2, 1, 3, 60.0) == pytest.approx(43.0)


def test_a_hung_cell_is_run_again_then_reported(tmp_path, capsys):
    import nbformat
    from nbclient.exceptions import CellTimeoutError

    from costkit.workshop import _execute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(30)")])
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(CellTimeoutError):
        _execute(path, kernel_name="python3", timeout_s=2, retries=1)
    assert "timed out after 2 s; running it again" in capsys.readouterr().err
    ok = tmp_path / "ok.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), ok)
    done, seconds = _execute(ok, kernel_name="python3", timeout_s=60)
    assert done.cells[0].outputs[0]["data"]["text/plain"] == "2" and seconds > 0


def _target(name: str) -> tuple[str, str]:
    """A Makefile target's prerequisites and recipe."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    m = re.search(rf"^{name}:(.*)\n((?:\t.*\n)+)", text, flags=re.M)
    assert m, f"no make target {name!r}"
    return m[1], m[2]


def test_make_class_opens_the_handouts_not_the_teachers_copies(handouts):
    deps, recipe = _target("class")
    assert "handouts" in deps.split()
    assert "--notebook-dir=handouts" in recipe and "--notebook-dir=notebooks" not in recipe
    assert "make class" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make class" in GUIDE
    # what it opens: no solution cell anywhere, and every check cell still there to run
    for name, nb in handouts.items():
        tags = [set(c.metadata.get("tags", [])) for c in nb.cells]
        assert not any("solution" in t for t in tags), name
        assert not any(c.source.lstrip().startswith("# Solutions") for c in nb.cells), name
        checks = [c for c, t in zip(nb.cells, tags, strict=True) if "check" in t]
        if any("exercise" in t for t in tags):
            assert checks and all("check_all" in c.source for c in checks), name
