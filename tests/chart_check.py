"""What a reader of a chart must never see: text on text, a ``1e6`` offset, ``10^k`` ticks.

:func:`problems` lists them for one matplotlib figure, after drawing it: every pair of
text boxes (titles, axis labels, tick labels, annotations, legends) that overlap by more
than a sliver, every axis with an offset or a scientific multiplier, and every tick label
written as a power of ten.
"""

from __future__ import annotations

OVERLAP = 0.15
"""Two texts clash when their boxes share more than this share of the smaller one."""


def _boxes(fig, renderer):
    out = []

    def add(what, artist):
        if artist is None or not artist.get_visible():
            return
        text = artist.get_text() if hasattr(artist, "get_text") else what
        if hasattr(artist, "get_text") and not str(text).strip():
            return
        bb = artist.get_window_extent(renderer)
        if bb.width > 0 and bb.height > 0:
            out.append((f"{what} {str(text)[:40]!r}", bb))

    for t in fig.texts:
        add("figure text", t)
    if getattr(fig, "_suptitle", None) is not None:
        add("suptitle", fig._suptitle)
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        tag = f"axes {i}"
        for title in (ax.title, ax._left_title, ax._right_title):
            add(f"{tag} title", title)
        add(f"{tag} x label", ax.xaxis.label)
        add(f"{tag} y label", ax.yaxis.label)
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if not (lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo)):
                    continue
                for lab in (tick.label1, tick.label2):
                    if lab.get_visible():
                        add(f"{tag} tick", lab)
        for t in ax.texts:
            add(f"{tag} annotation", t)
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            out.append((f"{tag} legend", leg.get_window_extent(renderer)))
    return out


def _clash(a, b) -> bool:
    x0, x1 = max(a.x0, b.x0), min(a.x1, b.x1)
    y0, y1 = max(a.y0, b.y0), min(a.y1, b.y1)
    if x1 <= x0 or y1 <= y0:
        return False
    inter = (x1 - x0) * (y1 - y0)
    return inter > OVERLAP * min(a.width * a.height, b.width * b.height)


def problems(fig) -> list[str]:
    """Everything wrong with the text of ``fig`` (empty: nothing)."""
    if not hasattr(fig.canvas, "get_renderer"):   # a Figure made outside pyplot (the report)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for i, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            off = axis.get_offset_text().get_text()
            if axis.get_offset_text().get_visible() and off.strip():
                found.append(f"axes {i} {name} axis has an offset or multiplier {off!r}")
            for tick in axis.get_ticklabels():
                t = tick.get_text()
                if "mathdefault" in t or "^{" in t:
                    found.append(f"axes {i} {name} tick written as a power: {t!r}")
                    break
            lo, hi = sorted(axis.get_view_interval())
            shown = [t.get_text() for loc, t in zip(axis.get_majorticklocs(),
                                                     axis.get_majorticklabels(), strict=False)
                     if lo <= loc <= hi and t.get_visible() and t.get_text().strip()]
            twice = sorted({t for t in shown if shown.count(t) > 1})
            if twice:
                found.append(f"axes {i} {name} axis has two ticks labelled {twice[0]!r}")
    # a twin axis repeats its partner's shared ticks at the same place: one copy counts
    seen, boxes = set(), []
    for name, bb in _boxes(fig, renderer):
        key = (name.split(" ", 2)[-1], round(bb.x0), round(bb.y0), round(bb.x1), round(bb.y1))
        if key not in seen:
            seen.add(key)
            boxes.append((name, bb))
    for k, (a, bb_a) in enumerate(boxes):
        for b, bb_b in boxes[k + 1:]:
            if _clash(bb_a, bb_b):
                found.append(f"{a} overlaps {b}")
    return found
