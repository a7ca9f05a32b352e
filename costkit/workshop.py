"""The workshop kit: student hand-outs, static HTML, and how long each notebook takes.

- :func:`make_handouts` copies the notebooks without their solution cells
  (tagged ``solution``), with the outputs of the exercise and check cells
  (tagged ``exercise`` and ``check``) cleared; prose, charts and widgets
  stay. The check cells then say "not answered" until a student answers.
- :func:`render_html` turns the executed notebooks into static HTML pages with
  an index, for students who only want to read (interactive panels are
  replaced by a note saying where to use them; no script is loaded).
- :func:`measure` runs every notebook and counts what a teacher spends time
  on, and :func:`teach_minutes` turns that into minutes with a stated model.

Needs nbformat and nbconvert (installed with ``costkit[notebooks]``).
Command line: ``python -m costkit.workshop handouts|html|timings``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__ = ["HALF_DAY_MINUTES", "TEACH_MODEL", "agenda", "agenda_minutes", "guide_section",
           "write_guide", "make_handouts", "measure", "read_timings", "render_html",
           "teach_minutes"]

HIDDEN_TAGS = ("solution",)
CLEARED_TAGS = ("exercise", "check")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

TEACH_MODEL = {
    "words_per_minute": 110.0,   # prose read aloud or talked through
    "minutes_per_chart": 1.5,    # read a chart with the room
    "minutes_per_panel": 6.0,    # explore a widget panel together
    "minutes_per_exercise": 6.0,  # students work, then compare
    "minutes_per_code_cell": 0.5,  # run it, say what it calls
}
"""How :func:`teach_minutes` turns a notebook's content into teaching time.

An assumption, not a measurement: a presenter talks at about 110 words a
minute through explanatory prose; charts, panels, exercises and code cells
add the stated minutes each. The run time is measured and added.
"""


def _notebooks(src) -> list[Path]:
    paths = sorted(Path(src).glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {src}")
    return paths


def _tags(cell) -> set:
    return set(cell.get("metadata", {}).get("tags", []))


def handout(nb):
    """One notebook as a hand-out (a new object; ``nb`` is not changed)."""
    import copy

    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        tags = _tags(cell)
        if tags & set(HIDDEN_TAGS):
            continue
        if cell.cell_type == "code" and tags & set(CLEARED_TAGS):
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    out.cells = cells
    out.metadata.setdefault("costkit", {})["handout"] = True
    return out


def make_handouts(src: StrPath = "notebooks", out: StrPath = "handouts") -> list[Path]:
    """Write a hand-out of every numbered notebook in ``src`` to ``out``; returns the paths.

    Parameters
    ----------
    src : str or Path, default 'notebooks'
        Folder of the numbered notebooks.
    out : str or Path, default 'handouts'
        Folder for the hand-outs.

    Returns
    -------
    list of Path
        The hand-outs written.

    Examples
    --------
    >>> make_handouts("notebooks", "handouts")[0].name  # doctest: +SKIP
    '00_welcome.ipynb'
    """
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in _notebooks(src):
        nb = nbformat.read(path, as_version=4)
        target = out / path.name
        nbformat.write(handout(nb), target)
        written.append(target)
    (out / "README.md").write_text(
        "# Student hand-outs\n\nWritten by `make handouts` from `notebooks/`: the solution cells "
        "are removed and the exercise cells are empty. Put your answers in the cell under each "
        "notebook's exercises and run the check cell: it says right, close (with a hint) or "
        "wrong, and never shows the answer.\n", encoding="utf-8")
    return written


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return fallback


def _static(nb):
    """Replace interactive panels by a note, and drop the widget state (no script needed)."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            if WIDGET_MIME in o.get("data", {}):
                o = nbformat.v4.new_output(
                    "display_data", data={"text/html": (
                        "<p><em>An interactive panel is here: open this notebook in JupyterLab "
                        "(<code>make lab</code>) or the dashboard (<code>make dashboard</code>) "
                        "to use it.</em></p>")})
            outputs.append(o)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return nb


def render_html(src: StrPath = "notebooks", out: StrPath = "build/html") -> Path:
    """Static HTML of every executed notebook in ``src`` plus ``index.html``; returns the index.

    Parameters
    ----------
    src : str or Path, default 'notebooks'
        Folder of the numbered notebooks.
    out : str or Path, default 'build/html'
        Folder for the HTML pages.

    Returns
    -------
    Path
        The index page written.

    Examples
    --------
    Executed notebooks to static pages (``make html``):

    >>> render_html("notebooks", "build/html").name  # doctest: +SKIP
    'index.html'
    """
    import html

    import nbformat
    from nbconvert import HTMLExporter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    rows = []
    for path in _notebooks(src):
        nb = nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(_static(nb))
        name = path.with_suffix(".html").name
        (out / name).write_text(body, encoding="utf-8")
        rows.append(f"<li><a href='{name}'>{html.escape(_title(nb, path.stem))}</a></li>")
    index = out / "index.html"
    index.write_text(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>costkit notebooks"
        "</title><style>body{font-family:system-ui,sans-serif;max-width:760px;margin:3em auto;"
        "line-height:1.6}</style></head><body><h1>costkit notebooks</h1><p>The executed "
        "notebooks, to read without Jupyter. To run them and move the panels: "
        "<code>make lab</code>.</p><ol>" + "".join(rows) + "</ol></body></html>",
        encoding="utf-8")
    return index


OPTIONAL_TAG = "optional"
"""Cells tagged ``optional`` are the part a short session may leave out (``core_`` columns)."""

HALF_DAY_MINUTES = 180
"""The half-day agenda fits three hours, breaks included (``tests/test_workshop.py``)."""


def _counts(nb, *, core=False) -> dict:
    cells = [c for c in nb.cells if not (core and OPTIONAL_TAG in _tags(c))]
    words = sum(len(re.findall(r"[A-Za-z][\w'-]*", c.source)) for c in cells
                if c.cell_type == "markdown" and not c.source.lstrip().startswith("## Exercises"))
    code = [c for c in cells if c.cell_type == "code" and not _tags(c) & {"solution", "check"}]
    charts = sum(1 for c in code for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    panels = sum(1 for c in code for o in c.get("outputs", []) if WIDGET_MIME in o.get("data", {}))
    exercises = sum(len(re.findall(r"^\d+\.\s", c.source, flags=re.M)) for c in cells
                    if c.cell_type == "markdown" and c.source.lstrip().startswith("## Exercises"))
    return {"markdown_words": words, "code_cells": len(code), "charts": charts,
            "panels": panels, "exercises": exercises}


def teach_minutes(markdown_words: float, code_cells: float, charts: float, panels: float,
                  exercises: float, run_seconds: float = 0.0,
                  model: Mapping[str, float] | None = None) -> float:
    """Minutes to teach a notebook under :data:`TEACH_MODEL` (an assumption), plus its run time.

    Parameters
    ----------
    markdown_words : float
        Words of prose. [count]
    code_cells : float
        Code cells. [count]
    charts : float
        Charts. [count]
    panels : float
        Widget panels. [count]
    exercises : float
        Exercises. [count]
    run_seconds : float, default 0.0
        Run time of the notebook. [s]
    model : mapping, optional
        Minutes per unit of content; default :data:`TEACH_MODEL`.

    Returns
    -------
    float
        Minutes to teach a notebook under :data:`TEACH_MODEL` (an assumption), plus its run
        time.

    Examples
    --------
    >>> round(teach_minutes(1500, 20, 6, 1, 3, run_seconds=30))
    57
    """
    m = {**TEACH_MODEL, **(model or {})}
    return (markdown_words / m["words_per_minute"] + charts * m["minutes_per_chart"]
            + panels * m["minutes_per_panel"] + exercises * m["minutes_per_exercise"]
            + code_cells * m["minutes_per_code_cell"] + run_seconds / 60.0)


def _execute(path, kernel_name="costkit", timeout_s=30, retries=1):
    """Run the notebook at ``path`` top to bottom in memory: ``(executed notebook, seconds)``.

    Every cell gets a timeout, ``timeout_s``, even though each takes seconds: nbclient
    can miss the wake-up for a cell's reply (jupyter/nbclient#312; here, notebook 05's
    panel cell, in about half the runs on this machine) and then reads it only when its
    wait times out, so with no timeout it waits forever and with 600 s it measured 603 s.
    A cell that really times out is run again from a fresh kernel, up to ``retries`` times.
    """
    import time

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    for attempt in range(int(retries) + 1):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout_s, kernel_name=kernel_name,
                                resources={"metadata": {"path": str(Path(path).parent)}})
        t0 = time.perf_counter()
        try:
            client.execute()
        except CellTimeoutError:
            if attempt == int(retries):
                raise
            print(f"{Path(path).name}: a cell timed out after {timeout_s} s; running it again",
                  file=sys.stderr)
            continue
        return nb, time.perf_counter() - t0
    raise AssertionError("unreachable")


def execute_in_place(src="notebooks", kernel_name="costkit", timeout_s=30) -> list[Path]:
    """Execute every notebook of ``src`` and save it with its outputs (make execute-notebooks).

    Each is retried once if a cell hangs (see :func:`_execute`).
    """
    import nbformat

    done = []
    for path in _notebooks(src):
        nb, seconds = _execute(path, kernel_name, timeout_s)
        nbformat.write(nb, path)
        print(f"executed {path} in {seconds:.1f} s")
        done.append(path)
    return done


def measure(src: StrPath = "notebooks", kernel_name: str = "costkit", timeout_s: int = 30,
            repeats: int = 2) -> Frame:
    """Run every notebook top to bottom (in memory) and time it; count its content.

    Each notebook runs ``repeats`` times and the fastest run counts, and a run
    that hangs is stopped after ``timeout_s`` and run again (:func:`_execute`):
    one hung run of notebook 05 once measured 603 s instead of 5 s and put ten
    phantom minutes in the agenda.

    Returns a DataFrame: ``notebook``, ``run_seconds`` (wall clock of the
    execution, kernel start included), the counts, and ``teach_minutes``.

    Parameters
    ----------
    src : str or Path, default 'notebooks'
        Folder of the numbered notebooks.
    kernel_name : str, default 'costkit'
        Jupyter kernel to run them in.
    timeout_s : int, default 30
        Seconds a cell may run. [s]
    repeats : int, default 2
        Runs of each notebook; the fastest counts. [count]

    Returns
    -------
    DataFrame
        One row per notebook: run seconds, prose words, code cells, charts, panels,
        exercises.

    Examples
    --------
    Runs every notebook (minutes): ``make timings`` calls it.

    >>> measure("notebooks").loc["00_welcome", "charts"]  # doctest: +SKIP
    4
    """
    import nbformat
    import pandas as pd

    if int(repeats) < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats!r}")
    rows = []
    for path in _notebooks(src):
        nb = nbformat.read(path, as_version=4)
        seconds = min(_execute(path, kernel_name, timeout_s)[1] for _ in range(int(repeats)))
        counts = _counts(nb)
        rows.append({"notebook": path.stem, "run_seconds": round(seconds, 1), **counts,
                     "teach_minutes": round(teach_minutes(**counts, run_seconds=seconds)),
                     "core_teach_minutes": round(teach_minutes(**_counts(nb, core=True),
                                                               run_seconds=seconds))})
    return pd.DataFrame(rows)


def read_timings(path: StrPath = "docs/notebook_timings.csv") -> Frame:
    """The committed measurement (``make timings``) as a DataFrame indexed by notebook.

    Parameters
    ----------
    path : str or Path, optional
        The committed measurement (``make timings``).

    Returns
    -------
    DataFrame
        The committed measurement (``make timings``) as a DataFrame indexed by notebook.

    Examples
    --------
    >>> t = read_timings()
    >>> "teach_minutes" in t.columns, t.index[0]
    (True, '00_welcome')
    """
    import pandas as pd

    return pd.read_csv(path, comment="#").set_index("notebook")


def agenda(timings: Frame, notebooks: Sequence[str], *, start: str = "09:00",
           breaks: Mapping[str, tuple[str, int]] | None = None, core: Sequence[str] = ()) -> str:
    """A timed agenda as a Markdown table: each notebook's measured teaching minutes in turn.

    ``breaks`` maps a notebook (the break comes after it) to ``(label, minutes)``;
    notebooks in ``core`` are taught without their optional sections
    (``core_teach_minutes``).

    Parameters
    ----------
    timings : DataFrame
        Measured notebook timings (:func:`read_timings`), indexed by notebook.
    notebooks : sequence of str
        Notebook names in teaching order.
    start : str, default '09:00'
        Start time, ``HH:MM``.
    breaks : mapping, optional
        ``{notebook: (label, minutes)}``: a break after that notebook.
    core : sequence of str, default ()
        Notebooks taught without their optional sections.

    Returns
    -------
    str
        A timed agenda as a Markdown table: each notebook's measured teaching minutes in
        turn.

    Examples
    --------
    >>> t = read_timings()
    >>> print(agenda(t, ["00_welcome", "01_cost_accounting"], start="13:00").splitlines()[0])
    | start | end | session | minutes |
    """
    import datetime as dt

    t = dt.datetime.strptime(start, "%H:%M")
    rows = ["| start | end | session | minutes |", "|---|---|---|---|"]

    def add(label, minutes):
        nonlocal t
        end = t + dt.timedelta(minutes=int(minutes))
        rows.append(f"| {t:%H:%M} | {end:%H:%M} | {label} | {int(minutes)} |")
        t = end

    for nb in notebooks:
        if nb in core:
            add(f"`{nb}` (without its optional sections)", timings.loc[nb, "core_teach_minutes"])
        else:
            add(f"`{nb}`", timings.loc[nb, "teach_minutes"])
        if breaks and nb in breaks:
            add(*breaks[nb])
    return "\n".join(rows)


HALF_DAY: dict[str, Any] = dict(notebooks=["00_welcome", "01_cost_accounting", "03_serving_cost",
                           "06_roi_case_study"], start="13:00",
                breaks={"01_cost_accounting": ("break", 15)},
                core=("00_welcome", "01_cost_accounting", "03_serving_cost",
                      "06_roi_case_study"))
FULL_DAY: dict[str, Any] = dict(notebooks=["00_welcome", "01_cost_accounting", "02_training_cost",
                           "03_serving_cost", "04_tuning_cost", "05_optimization",
                           "06_roi_case_study", "07_monitoring"], start="09:00",
                breaks={"01_cost_accounting": ("break", 15), "03_serving_cost": ("lunch", 60),
                        "05_optimization": ("break", 15)})


def agenda_minutes(timings: Frame, notebooks: Sequence[str], *,
                   breaks: Mapping[str, tuple[str, int]] | None = None, core: Sequence[str] = (),
                   **_: Any) -> int:
    """Total minutes of :func:`agenda` (sessions and breaks).

    Parameters
    ----------
    timings : DataFrame
        Measured notebook timings (:func:`read_timings`), indexed by notebook.
    notebooks : sequence of str
        Notebook names in teaching order.
    breaks : mapping, optional
        ``{notebook: (label, minutes)}``: a break after that notebook.
    core : sequence of str, default ()
        Notebooks taught without their optional sections.
    **_
        Ignored (so that ``**HALF_DAY`` can be passed whole).

    Returns
    -------
    int
        Total minutes of :func:`agenda` (sessions and breaks).

    Examples
    --------
    >>> agenda_minutes(read_timings(), **HALF_DAY) <= HALF_DAY_MINUTES
    True
    """
    total = sum(int(timings.loc[nb, "core_teach_minutes" if nb in core else "teach_minutes"])
                for nb in notebooks)
    return total + sum(int(m) for _, m in (breaks or {}).values())


def guide_section(timings: Frame) -> str:
    """The guide's timings table and both agendas, written from a measurement.

    Parameters
    ----------
    timings : DataFrame
        Measured notebook timings (:func:`read_timings`), indexed by notebook.

    Returns
    -------
    str
        The guide's timings table and both agendas, written from a measurement.

    Examples
    --------
    >>> guide_section(read_timings()).splitlines()[0].startswith("| notebook")
    True
    """
    rows = ["| notebook | run [s] | prose [words] | charts | panels | exercises | teach [min] "
            "| without optional sections [min] |", "|---|---|---|---|---|---|---|---|"]
    for nb, r in timings.iterrows():
        rows.append(f"| `{nb}` | {r.run_seconds:.1f} | {int(r.markdown_words):,} | "
                    f"{int(r.charts)} | {int(r.panels)} | {int(r.exercises)} | "
                    f"{int(r.teach_minutes)} | {int(r.core_teach_minutes)} |")
    half, full = agenda_minutes(timings, **HALF_DAY), agenda_minutes(timings, **FULL_DAY)
    return "\n".join([
        *rows, "", "## Agendas", "",
        f"**Half day (afternoon, {half} minutes with the break)**: the accounting model, serving "
        "(where most of the money goes) and the decision. The sections tagged optional are left "
        "for later: notebook 00's own-prices section and its exercises (homework), notebook "
        "01's six categories (notebook 06 shows its ledger by phase and by category), notebook "
        "03's mixtures of experts and validation, notebook 06's latency pricing, the origin's "
        "linear cost model and the scenario file. Training and tuning are mentioned through "
        "notebook 06's one-off ledger.", "",
        agenda(timings, **HALF_DAY), "",
        f"**Full day ({full} minutes with the breaks)**: the whole sequence.", "",
        agenda(timings, **FULL_DAY)])


GUIDE_BEGIN = "<!-- written by make timings: begin -->"
GUIDE_END = "<!-- written by make timings: end -->"


def write_guide(timings: Frame, guide: StrPath = "docs/workshop.md") -> Path:
    """Replace the guide's measured section (between the markers) with :func:`guide_section`.

    Parameters
    ----------
    timings : DataFrame
        Measured notebook timings (:func:`read_timings`), indexed by notebook.
    guide : str or Path, default 'docs/workshop.md'
        The facilitator guide to update.

    Returns
    -------
    Path
        The guide written.

    Examples
    --------
    >>> write_guide(read_timings())  # doctest: +SKIP
    PosixPath('docs/workshop.md')
    """
    path = Path(guide)
    text = path.read_text(encoding="utf-8")
    if GUIDE_BEGIN not in text or GUIDE_END not in text:
        raise ValueError(f"{path}: the markers {GUIDE_BEGIN!r} and {GUIDE_END!r} are missing")
    head, rest = text.split(GUIDE_BEGIN, 1)
    _, tail = rest.split(GUIDE_END, 1)
    path.write_text(f"{head}{GUIDE_BEGIN}\n{guide_section(timings)}\n{GUIDE_END}{tail}",
                    encoding="utf-8")
    return path


def main(argv=None) -> int:
    import argparse
    import datetime as dt
    import os
    import platform

    p = argparse.ArgumentParser(prog="python -m costkit.workshop",
                                description="Hand-outs, static HTML and timings for a workshop.")
    p.add_argument("what", choices=("handouts", "html", "timings", "execute"))
    p.add_argument("--src", default="notebooks")
    p.add_argument("--out", help="handouts/, build/html/ or docs/notebook_timings.csv")
    a = p.parse_args(argv)
    if a.what == "handouts":
        paths = make_handouts(a.src, a.out or "handouts")
        print(f"wrote {len(paths)} hand-outs to {a.out or 'handouts'}/")
    elif a.what == "execute":
        execute_in_place(a.src)
    elif a.what == "html":
        print(f"wrote {render_html(a.src, a.out or 'build/html')}")
    else:
        df = measure(a.src)
        out = Path(a.out or "docs/notebook_timings.csv")
        out.parent.mkdir(parents=True, exist_ok=True)
        note = (f"# measured {dt.date.today().isoformat()} by `make timings` on "
                f"{platform.machine()}, {os.cpu_count()} cores, Python "
                f"{platform.python_version()}; run_seconds the fastest of 2 runs; "
                "teach_minutes from costkit.workshop.TEACH_MODEL\n")
        out.write_text(note + df.to_csv(index=False), encoding="utf-8")
        print(df.to_string(index=False))
        print(f"wrote {out}")
        guide = out.parent / "workshop.md"
        if guide.exists():
            print(f"wrote {write_guide(read_timings(out), guide)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
