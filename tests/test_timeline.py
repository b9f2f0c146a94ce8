"""The timeline of the best matches: periods chosen to fit, gaps drawn, undated passages counted beside."""

from __future__ import annotations

import pytest

from qa.serve.timeline import MAX_BARS, Timeline, render_timeline, timeline_of


def test_days_when_the_matches_span_a_few_weeks_with_gaps_drawn():
    timeline = timeline_of(["2024-03-05", "2024-03-06", None, "2024-03-08", "2024-03-05", "not a date"])
    assert timeline == Timeline(
        "day", [("2024-03-05", 2), ("2024-03-06", 1), ("2024-03-07", 0), ("2024-03-08", 1)], undated=2
    )
    assert timeline.dated == 4


@pytest.mark.parametrize(
    "dates,unit,bars",
    [
        (["2023-06-14", "2024-03-05"], "month", 10),
        (["2015-01-01", "2024-12-31"], "year", 10),
        (["2019-12-31", "2020-01-01"], "day", 2),
        (["2020-01-01", "2023-06-01"], "year", 4),  # 42 months: more than MAX_BARS
    ],
)
def test_the_finest_period_that_fits_is_used(dates, unit, bars):
    timeline = timeline_of(dates)
    assert (timeline.unit, len(timeline.bars)) == (unit, bars)
    assert len(timeline.bars) <= MAX_BARS and timeline.dated == len(dates)


def test_only_undated_matches_still_show_their_count():
    timeline = timeline_of([None, None])
    assert timeline == Timeline("year", [], 2)
    html = render_timeline(timeline)
    assert "2 undated" in html and 'class="qa-bar"' not in html
    assert render_timeline(timeline_of([])) == ""


def test_chart_bars_carry_period_and_count_and_labels_are_escaped():
    html = render_timeline(timeline_of(["2024-03-05", "2024-03-05", "2024-03-07", None]))
    assert 'data-period="2024-03-05" data-count="2"' in html and 'data-period="2024-03-06" data-count="0"' in html
    assert "When the best 4 matches were published" in html and "1 undated" in html
    assert 'title="2024-03-05: 2 passages"' in html and 'style="height:100%"' in html
