"""Geometry of the charts in the council's report, drawn as inline SVG by
templates/report/charts.html.j2: no script, no file beside the page, legible in print and in
greyscale (every value is written beside its bar or point; fills differ by pattern as well as
colour; the legends name them).

Units: lengths are SVG user units, which are CSS pixels when a chart is drawn at its natural
width (`WIDTH`: the A4 page's text width between the report's margins, 182 mm = 688 px); y grows
downwards, a label's y is its baseline. Values are scores in percent (0-100) or counts.

Direction: the bar charts read right to left like the page, names on the right and bars growing
leftwards from a zero beside them; a trend runs left to right in time, oldest first, the way its
dates are written.

Text is not measured here: `text_width` estimates it on the generous side (DejaVu Sans, the
page's fallback font, advances 0.45-0.54 em a character on average in Chromium, Persian and Latin
alike; the estimate takes 0.62 em), so labels placed apart by the estimate do not touch. The
browser test (tests/unit/test_report_browser.py) measures the boxes Chromium draws, so a font
that draws wider shows there.

Labels are Persian words ("fa", right to left), numbers in Persian digits ("fa-num", written left
to right as the page's <bdi dir="ltr"> numbers) or English ("en"). Which end of a label sits at
its x is said on the page ("left", "right", "middle"), whatever the language's direction; the
template turns that into SVG's text-anchor for the label's direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 680.0  # a bar chart's width
FONT = 11.0  # labels
SMALL = 9.0  # English lines, ids, dates
LINE = 14.0  # one line of FONT text, baseline to baseline
SMALL_LINE = 12.0
EM_PER_CHAR = 0.62  # the width estimate's average advance, in em
ASCENT = 0.8  # how far a glyph may rise above its baseline, in em (descent: the rest of a line)
BAR = 14.0  # a bar's thickness
ROW_PAD = 5.0  # above and below a row's content
NAME_WIDTH = 190.0  # the names' column, on the right
GAP = 10.0  # between the names and the bars, and between columns of bars
EDGE = 2.0  # kept clear at the chart's edges
VALUE_GAP = 4.0  # between a bar's end and its value
PANEL_WIDTH = 220.0  # one trend panel: three panels and two gaps of 10 fill WIDTH
PANEL_PLOT_HEIGHT = 80.0
MARKER = 4.0  # the largest trend point's radius (the latest run's)
TICK_GAP = MARKER + 3  # between a trend's plot and its ticks' labels, clear of a point at its edge

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069"))


def text_width(text: str, size: float = FONT) -> float:
    """Estimated width of `text` at font `size` (user units), meant to be no less than a font
    draws it. Zero-width characters (the Persian non-joiner, direction marks) take no room."""
    return len(text.translate(_ZERO_WIDTH)) * size * EM_PER_CHAR


def wrap(text: str, width: float, size: float = FONT, max_lines: int = 2) -> list[str]:
    """`text` broken at spaces into at most `max_lines` lines no wider than `width` (estimated);
    what does not fit ends the last line with an ellipsis. A word wider than `width` is cut."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size) <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    lines = [line if text_width(line, size) <= width else _cut(line, width, size) for line in lines]
    if words and not lines[-1].endswith("…"):
        lines[-1] = _cut(lines[-1], width, size)
    return lines


def _cut(line: str, width: float, size: float) -> str:
    """`line` shortened to end with an ellipsis within `width`: whole words dropped first."""
    while text_width(line + "…", size) > width and " " in line:
        line = line.rsplit(" ", 1)[0]
    while line and text_width(line + "…", size) > width:
        line = line[:-1]
    return line + "…"


def one_line(text: str, width: float, size: float = FONT) -> str:
    """`text` as one line no wider than `width` (estimated), cut with an ellipsis if need be."""
    return (wrap(text, width, size, max_lines=1) or [""])[0]


@dataclass(frozen=True)
class Label:
    """A text at (x, y), y its baseline; `anchor` the end of it that sits at x on the page."""

    x: float
    y: float
    text: str
    anchor: str  # "left", "right", "middle"
    lang: str  # "fa", "fa-num", "en"
    size: float = FONT
    bold: bool = False

    @property
    def direction(self) -> str:
        """SVG's direction for the label: Persian words right to left, numbers and English left to right."""
        return "rtl" if self.lang == "fa" else "ltr"

    @property
    def text_anchor(self) -> str:
        """SVG's text-anchor that puts the label's `anchor` end at x in its direction."""
        if self.anchor == "middle":
            return "middle"
        return "start" if (self.anchor == "left") == (self.direction == "ltr") else "end"

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) the label may cover, by the width estimate."""
        width = text_width(self.text, self.size) * (1.08 if self.bold else 1.0)
        left = {"left": self.x, "right": self.x - width, "middle": self.x - width / 2}[self.anchor]
        return (left, self.y - ASCENT * self.size, left + width, self.y + (1.25 - ASCENT) * self.size)


@dataclass(frozen=True)
class Rect:
    """A filled box: `style` names its fill in the template (a CSS class and pattern); `key` what
    it shows (a unit id, a severity) for the page's data attributes."""

    x: float
    y: float
    width: float
    height: float
    style: str
    key: str = ""


@dataclass(frozen=True)
class Line:
    """A straight line, e.g. a grid line or a trend's gap (`style`: its CSS class)."""

    x1: float
    y1: float
    x2: float
    y2: float
    style: str


def overlapping(labels: list[Label], margin: float = 0.0) -> list[tuple[Label, Label]]:
    """The pairs of labels whose estimated boxes overlap (by more than -`margin`)."""
    pairs = []
    boxes = [(label, label.box) for label in labels if label.text]
    for index, (first, a) in enumerate(boxes):
        for second, b in boxes[index + 1:]:
            if a[0] < b[2] + margin and b[0] < a[2] + margin and a[1] < b[3] + margin and b[1] < a[3] + margin:
                pairs.append((first, second))
    return pairs


# --- scales ----------------------------------------------------------------------------------------

def nice_maximum(largest: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50... that is at least `largest` (a count's axis end);
    1 when `largest` is 0 or less, so that an axis always has a length."""
    if largest <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(largest))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= largest))


def rtl_position(value: float, maximum: float, zero_x: float, length: float) -> float:
    """Where `value` ends on a right-to-left axis whose 0 is at `zero_x` and whose `maximum`
    is `length` to its left; values outside 0..maximum are held at the ends."""
    return zero_x - length * min(max(value, 0.0), maximum) / maximum


# --- bar charts: one row per unit, one or more columns of bars --------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of bars sharing the chart's scale: its heading in both languages ("" for none)."""

    key: str
    head_fa: str = ""
    head_en: str = ""


@dataclass(frozen=True)
class Bar:
    """One bar's value and its labels (Persian digits, English); `style` its fill."""

    value: float
    label_fa: str
    label_en: str
    style: str


@dataclass(frozen=True)
class BarRow:
    """A unit (or the province) in a bar chart: `bars` one per column, None when it could not be
    evaluated (then `missing_fa`/`missing_en` say so in place of the bars)."""

    key: str
    name_fa: str
    name_en: str
    bars: tuple[Bar, ...] | None
    missing_fa: str = ""
    missing_en: str = ""
    strong: bool = False  # the province's row


@dataclass
class PlacedRow:
    """A row as drawn: from `top`, `height` tall; its bars (or the box saying it has none) and labels."""

    key: str
    top: float
    height: float
    bars: list[Rect] = field(default_factory=list)
    missing: Rect | None = None
    labels: list[Label] = field(default_factory=list)


@dataclass
class BarChart:
    """A drawn bar chart: `width` x `height`, its rows, grid, tick and axis labels."""

    width: float
    height: float
    rows: list[PlacedRow]
    grid: list[Line]
    labels: list[Label]  # headings, ticks, axis title

    @property
    def all_labels(self) -> list[Label]:
        return self.labels + [label for row in self.rows for label in row.labels]


def bar_chart(rows: list[BarRow], columns: list[Column], maximum: float, ticks: list[tuple[float, str, str]],
              axis_fa: str, axis_en: str, width: float = WIDTH) -> BarChart:
    """Rows of bars, names on the right, each column's bars growing leftwards from its zero.

    `maximum` is every column's full length; `ticks` (value, Persian digits, Latin digits) are
    marked under each column and drawn as grid lines; `axis_fa`/`axis_en` name the scale under
    the ticks. Each bar's value labels sit just past its end, in room kept for the widest of
    them, so a full bar's label stays inside the chart. Raises ValueError for no column, a row
    whose bars do not match the columns, or columns too many for the width.
    """
    if not columns:
        raise ValueError("a bar chart needs at least one column")
    for row in rows:
        if row.bars is not None and len(row.bars) != len(columns):
            raise ValueError(f"row {row.key}: {len(row.bars)} bars for {len(columns)} columns")
    bars_right = width - EDGE - NAME_WIDTH - GAP
    column_width = (bars_right - EDGE - GAP * (len(columns) - 1)) / len(columns)
    label_room = max([text_width(bar.label_fa, FONT) for row in rows if row.bars for bar in row.bars]
                     + [text_width(bar.label_en, SMALL) for row in rows if row.bars for bar in row.bars]
                     + [text_width(tick[1], FONT) / 2 for tick in ticks] + [0.0]) + VALUE_GAP
    length = column_width - label_room
    if length < 20:
        raise ValueError(f"no room for bars: {len(columns)} columns in {width} units")
    zeros = [bars_right - index * (column_width + GAP) for index in range(len(columns))]

    labels: list[Label] = []
    y = EDGE
    if any(column.head_fa or column.head_en for column in columns):
        for column, zero in zip(columns, zeros):
            middle = zero - column_width / 2
            labels.append(Label(middle, y + ASCENT * FONT, column.head_fa, "middle", "fa", FONT, bold=True))
            labels.append(Label(middle, y + LINE + ASCENT * SMALL, column.head_en, "middle", "en", SMALL))
        y += LINE + SMALL_LINE + ROW_PAD
    rows_top = y
    placed = []
    for row in rows:
        here = _bar_row(row, y, width - EDGE, list(zip(columns, zeros)), column_width, length, maximum)
        placed.append(here)
        y += here.height

    grid = []
    for zero in zeros:
        for value, tick_fa, tick_en in ticks:
            x = rtl_position(value, maximum, zero, length)
            grid.append(Line(x, rows_top, x, y, "grid-zero" if value == 0 else "grid"))
            labels.append(Label(x, y + 3 + ASCENT * FONT, tick_fa, "middle", "fa-num", FONT))
            labels.append(Label(x, y + 3 + LINE + ASCENT * SMALL, tick_en, "middle", "en", SMALL))
    y += 3 + LINE + SMALL_LINE
    labels.append(Label(bars_right, y + ASCENT * FONT + 2, axis_fa, "right", "fa", FONT))
    labels.append(Label(EDGE, y + ASCENT * FONT + 2, axis_en, "left", "en", SMALL))
    y += LINE + EDGE + 2
    return BarChart(width, y, placed, grid, labels)


def _bar_row(row: BarRow, top: float, names_right: float, columns: list[tuple[Column, float]], column_width: float,
             length: float, maximum: float) -> PlacedRow:
    """One row from `top`: its name (Persian on up to two lines, the English under it) ending at
    `names_right`, then a bar per column (with the x of its zero) with its values past the bar's
    end; or, for a row without bars, a dashed box across the columns saying why."""
    name_lines = wrap(row.name_fa, NAME_WIDTH, FONT)
    height = max(len(name_lines) * LINE + SMALL_LINE, LINE + SMALL_LINE, BAR) + 2 * ROW_PAD
    middle = top + height / 2
    here = PlacedRow(row.key, top, height)
    block_top = middle - (len(name_lines) * LINE + SMALL_LINE) / 2
    for number, line in enumerate(name_lines):
        here.labels.append(Label(names_right, block_top + number * LINE + ASCENT * FONT + 1, line, "right",
                                 "fa", FONT, bold=row.strong))
    here.labels.append(Label(names_right, block_top + len(name_lines) * LINE + ASCENT * SMALL + 1,
                             one_line(row.name_en, NAME_WIDTH, SMALL), "right", "en", SMALL))
    if row.bars is None:
        right, left = columns[0][1], columns[-1][1] - column_width
        here.missing = Rect(left, middle - BAR / 2, right - left, BAR, "missing", row.key)
        here.labels.append(Label(right - VALUE_GAP, middle + 4, row.missing_fa, "right", "fa", FONT))
        here.labels.append(Label(left + VALUE_GAP, middle + 3, row.missing_en, "left", "en", SMALL))
        return here
    for (column, zero), bar in zip(columns, row.bars):
        end = rtl_position(bar.value, maximum, zero, length)
        here.bars.append(Rect(end, middle - BAR / 2, zero - end, BAR, bar.style, column.key))
        here.labels.append(Label(end - VALUE_GAP, middle - 1, bar.label_fa, "right", "fa-num", FONT))
        here.labels.append(Label(end - VALUE_GAP, middle + SMALL_LINE, bar.label_en, "right", "en", SMALL))
    return here


# --- trend panels: one small chart per unit, and the province's ---------------------------------------

@dataclass(frozen=True)
class Run:
    """One evaluation on a trend's time axis: its date in Persian digits and in English."""

    date_fa: str
    date_en: str


@dataclass(frozen=True)
class Series:
    """What one panel shows: `scores` one per run (None where not evaluated), oldest first;
    `reference` the province's scores on the same runs (None for the province's own panel)."""

    key: str
    name_fa: str
    name_en: str
    scores: tuple[float | None, ...]
    now_fa: str  # the latest score in Persian digits, or Persian words saying it has none
    now_en: str
    reference: tuple[float | None, ...] | None = None
    now_lang: str = "fa-num"  # "fa" when now_fa is words


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    run: int  # its index in the runs, oldest 0
    value: float


@dataclass
class TrendPanel:
    """A drawn panel, `width` x `height`: the plot box (left, top, right, bottom), the unit's line
    as polylines (broken where a run has no score) and points, the reference's likewise, the
    runs with no score as gap lines, and every label."""

    key: str
    width: float
    height: float
    plot: tuple[float, float, float, float]
    lines: list[list[tuple[float, float]]]
    points: list[Point]
    reference_lines: list[list[tuple[float, float]]]
    reference_points: list[Point]
    gaps: list[Line]
    grid: list[Line]
    labels: list[Label]
    single: bool  # one run only: a point, and a note that there is no trend yet


def run_x(index: int, runs: int, left: float, right: float) -> float:
    """The x of run `index` of `runs`, evenly spaced from `left` (oldest) to `right` (newest);
    a single run stands in the middle."""
    if runs < 1 or not 0 <= index < runs:
        raise ValueError(f"run {index} of {runs}")
    return (left + right) / 2 if runs == 1 else left + (right - left) * index / (runs - 1)


def score_y(score: float, top: float, bottom: float) -> float:
    """The y of a score in percent on a plot from `bottom` (0) up to `top` (100), held within."""
    return bottom - (bottom - top) * min(max(score, 0.0), 100.0) / 100.0


def _points(scores: tuple[float | None, ...], left: float, top: float, right: float, bottom: float) -> list[Point]:
    """The runs that have a score, placed on the plot (left, top, right, bottom)."""
    return [Point(run_x(index, len(scores), left, right), score_y(score, top, bottom), index, score)
            for index, score in enumerate(scores) if score is not None]


def _polylines(points: list[Point]) -> list[list[tuple[float, float]]]:
    """Consecutive runs' points joined; a run without a score breaks the line."""
    lines, current, previous = [], [], None
    for point in points:
        if previous is not None and point.run != previous + 1:
            lines.append(current)
            current = []
        current.append((point.x, point.y))
        previous = point.run
    if current:
        lines.append(current)
    return [line for line in lines if len(line) > 1]


def trend_panels(series: list[Series], runs: list[Run], ticks: list[tuple[float, str, str]],
                 single_fa: str, single_en: str) -> list[TrendPanel]:
    """One panel per series, all the same size so that their plots line up in the page's grid.

    Each panel: the name (Persian, up to three lines, and the English name under it) on the right,
    the latest score on the left, the plot of 0-100 with `ticks` (value, Persian, Latin digits;
    Persian on the plot's right, Latin on its left), the first and last run's dates under it. With
    one run the point stands alone and `single_fa`/`single_en` say there is no trend yet. Raises
    ValueError when a series does not have one score per run.
    """
    if not runs:
        raise ValueError("a trend needs at least one run")
    for one in series:
        if len(one.scores) != len(runs) or (one.reference is not None and len(one.reference) != len(runs)):
            raise ValueError(f"series {one.key}: scores for {len(one.scores)} runs, not {len(runs)}")
    inner_left, inner_right = EDGE + 2, PANEL_WIDTH - EDGE - 2
    titles = []
    for one in series:
        value_room = max(text_width(one.now_fa, FONT) * 1.08, text_width(one.now_en, SMALL)) + GAP
        name_lines = wrap(one.name_fa, inner_right - inner_left - value_room, FONT, max_lines=3)
        titles.append(name_lines)
    title_height = max(max(len(lines), 2) * LINE + SMALL_LINE for lines in titles) + 4
    tick_room = max(max(text_width(fa, SMALL), text_width(en, SMALL)) for _, fa, en in ticks) + TICK_GAP + 1
    left, right = inner_left + tick_room, inner_right - tick_room
    top = EDGE + title_height + ASCENT * SMALL
    bottom = top + PANEL_PLOT_HEIGHT
    dates = bottom + 8  # the top of the dates under the plot, clear of the ticks' labels
    height = dates + 2 * SMALL_LINE + (2 * SMALL_LINE + 2 if len(runs) == 1 else 0) + EDGE

    panels = []
    for one, name_lines in zip(series, titles):
        labels = [Label(inner_right, EDGE + ASCENT * FONT + number * LINE, line, "right", "fa", FONT)
                  for number, line in enumerate(name_lines)]
        name_room = inner_right - inner_left - (text_width(one.now_en, SMALL) + GAP if len(name_lines) < 2 else 0)
        labels.append(Label(inner_right, EDGE + len(name_lines) * LINE + ASCENT * SMALL + 1,
                            one_line(one.name_en, name_room, SMALL), "right", "en", SMALL))
        labels.append(Label(inner_left, EDGE + ASCENT * FONT, one.now_fa, "left", one.now_lang, FONT, bold=True))
        labels.append(Label(inner_left, EDGE + LINE + ASCENT * SMALL, one.now_en, "left", "en", SMALL))
        grid = []
        for value, tick_fa, tick_en in ticks:
            y = score_y(value, top, bottom)
            grid.append(Line(left, y, right, y, "grid-zero" if value == 0 else "grid"))
            labels.append(Label(right + TICK_GAP, y + 3, tick_fa, "left", "fa-num", SMALL))
            labels.append(Label(left - TICK_GAP, y + 3, tick_en, "right", "en", SMALL))
        # Dates: the first at the left, the last at the right, one run's in the middle.
        ends = [(0, "middle")] if len(runs) == 1 else [(0, "left"), (len(runs) - 1, "right")]
        for index, anchor in ends:
            x = run_x(index, len(runs), left, right)
            labels.append(Label(x, dates + ASCENT * SMALL, runs[index].date_fa, anchor, "fa-num", SMALL))
            labels.append(Label(x, dates + SMALL_LINE + ASCENT * SMALL, runs[index].date_en, anchor, "en", SMALL))
        if len(runs) == 1:
            labels.append(Label(inner_right, dates + 2 * SMALL_LINE + ASCENT * SMALL + 2, single_fa, "right", "fa", SMALL))
            labels.append(Label(inner_left, dates + 3 * SMALL_LINE + ASCENT * SMALL + 2, single_en, "left", "en", SMALL))
        points = _points(one.scores, left, top, right, bottom)
        reference = _points(one.reference, left, top, right, bottom) if one.reference is not None else []
        gaps = [Line(run_x(index, len(runs), left, right), top, run_x(index, len(runs), left, right), bottom, "gap")
                for index, score in enumerate(one.scores) if score is None]
        panels.append(TrendPanel(one.key, PANEL_WIDTH, height, (left, top, right, bottom),
                                 _polylines(points), points,
                                 _polylines(reference), reference, gaps, grid, labels, len(runs) == 1))
    return panels
