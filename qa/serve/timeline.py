"""When something was said: the best-matching passages counted by their article's publication date.

The page draws it above the results for the top :data:`TIMELINE_DEPTH` passages (every wire
copy counted on the day its outlet ran it); passages whose article has no date are counted
beside the chart, never left out. Bars are days, months or years, whichever keeps the chart
readable, and empty periods between the first and last date are drawn as gaps.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from qa.settings import TIMELINE_DEPTH as TIMELINE_DEPTH  # re-exported: the page imports it from here

MAX_BARS = 40


@dataclass(frozen=True, slots=True)
class Timeline:
    """Counts per period, oldest first, and the passages without a date."""

    unit: str  # "day", "month" or "year"
    bars: list[tuple[str, int]]  # (period label, passages)
    undated: int

    @property
    def dated(self) -> int:
        return sum(count for _, count in self.bars)

    def to_dict(self) -> dict[str, object]:
        return {"unit": self.unit, "bars": [list(bar) for bar in self.bars], "undated": self.undated}


def _date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _label(day: dt.date, unit: str) -> str:
    return day.isoformat() if unit == "day" else f"{day:%Y-%m}" if unit == "month" else f"{day:%Y}"


def _periods(first: dt.date, last: dt.date, unit: str) -> list[str]:
    """Every period label from ``first`` to ``last``, gaps included."""
    if unit == "day":
        return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    if unit == "month":
        months = (last.year - first.year) * 12 + last.month - first.month
        return [
            f"{first.year + (first.month - 1 + n) // 12:04d}-{(first.month - 1 + n) % 12 + 1:02d}"
            for n in range(months + 1)
        ]
    return [f"{year:04d}" for year in range(first.year, last.year + 1)]


def timeline_of(dates: Iterable[str | dt.date | None]) -> Timeline:
    """Count passages per day, month or year (the finest with at most :data:`MAX_BARS` bars)."""
    known, undated = [], 0
    for value in dates:
        day = _date(value)
        if day is None:
            undated += 1
        else:
            known.append(day)
    if not known:
        return Timeline("year", [], undated)
    first, last = min(known), max(known)
    for unit in ("day", "month", "year"):
        periods = _periods(first, last, unit)
        if len(periods) <= MAX_BARS or unit == "year":
            break
    counts = Counter(_label(day, unit) for day in known)
    return Timeline(unit, [(period, counts.get(period, 0)) for period in periods], undated)


def render_timeline(timeline: Timeline) -> str:
    """The chart as HTML: one bar per period (its count in the tooltip), the undated count beside it."""
    if not timeline.bars and not timeline.undated:
        return ""
    top = max([count for _, count in timeline.bars] + [timeline.undated, 1])
    bars = "".join(
        f'<div class="qa-bar" style="height:{max(count / top * 100, 2 if count else 0):.0f}%" '
        f'title="{html.escape(label)}: {count} passage{"s" if count != 1 else ""}" data-period="{html.escape(label)}" '
        f'data-count="{count}"></div>'
        for label, count in timeline.bars
    )
    axis = ""
    if timeline.bars:
        first, last = timeline.bars[0][0], timeline.bars[-1][0]
        axis = f'<div class="qa-axis"><span>{html.escape(first)}</span><span>{html.escape(last)}</span></div>'
    undated = (
        f'<div class="qa-undated" title="passages whose article has no date">'
        f'<div class="qa-bars"><div class="qa-bar qa-bar-undated" style="height:{timeline.undated / top * 100:.0f}%" '
        f'data-count="{timeline.undated}"></div></div><span>{timeline.undated} undated</span></div>'
    )
    summary = f"{timeline.dated} dated passage{'s' if timeline.dated != 1 else ''} by {timeline.unit}"
    return (
        f'<figure class="qa-timeline" aria-label="When the best matches were published">'
        f"<figcaption>When the best {timeline.dated + timeline.undated} matches were published "
        f'<span class="qa-muted">({summary})</span></figcaption>'
        f'<div class="qa-chart"><div class="qa-plot"><div class="qa-bars">{bars}</div>{axis}</div>{undated}</div>'
        "</figure>"
    )
