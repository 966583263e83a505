"""When a pipeline is due: its ``schedule:`` turned into moments, pure and timezone-aware.

The ``schedule`` package can only place ``.at()`` times in a zone through ``pytz``, which is not a
dependency here; so due moments are computed with :mod:`zoneinfo` and the business calendar, and
``schedule`` is used only to tick. A wall-clock time a spring-forward skips is read with the
offset before the jump (02:30 becomes 03:30); one a fall-back repeats is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dunning.core.calendar import WEEKDAYS, BusinessCalendar, calendar_for
from dunning.core.config.schema import PipelineConfig, ScheduleConfig

SEARCH_DAYS = 400
"""How far to look for a due day; a year holds at least one open day under any sane calendar."""


class Timetable:
    """The due moments of one pipeline: ``at`` times on ``days`` in ``timezone``."""

    def __init__(self, schedule: ScheduleConfig, calendar: BusinessCalendar, timezone: str) -> None:
        self.times = [time.fromisoformat(text) for text in schedule.at]
        self.business_only = schedule.days == "business"
        self.calendar = calendar
        self.zone = ZoneInfo(timezone)

    @classmethod
    def of(cls, pipeline: PipelineConfig) -> Timetable:
        """The pipeline's timetable: its calendar's country, weekdays and closed days; the
        schedule's timezone, else the calendar's."""
        settings = pipeline.calendar
        calendar = calendar_for(
            settings.country,
            tuple(settings.closed),
            tuple(sorted(WEEKDAYS[day] for day in settings.business_days)),
        )
        return cls(pipeline.schedule, calendar, pipeline.schedule.timezone or settings.timezone)

    def runs_on(self, day: date) -> bool:
        return not self.business_only or self.calendar.is_business_day(day)

    def _moments_on(self, day: date) -> list[datetime]:
        return [datetime.combine(day, moment, tzinfo=self.zone) for moment in self.times]

    def next_after(self, now: datetime) -> datetime | None:
        """The first due moment strictly after ``now`` (aware), in the schedule's zone."""
        local_day = now.astimezone(self.zone).date()
        for offset in range(SEARCH_DAYS):
            day = local_day + timedelta(days=offset)
            if self.runs_on(day):
                for moment in self._moments_on(day):
                    if moment.astimezone(UTC) > now.astimezone(UTC):
                        return moment
        return None

    def last_at_or_before(self, now: datetime) -> datetime | None:
        """The latest due moment at or before ``now`` (aware); None if none in a year."""
        local_day = now.astimezone(self.zone).date()
        for offset in range(SEARCH_DAYS):
            day = local_day - timedelta(days=offset)
            if self.runs_on(day):
                for moment in reversed(self._moments_on(day)):
                    if moment.astimezone(UTC) <= now.astimezone(UTC):
                        return moment
        return None

    def today(self, now: datetime) -> date:
        """The day a run at ``now`` acts as of: the date in the schedule's zone."""
        return now.astimezone(self.zone).date()


def missed(last_due: datetime | None, last_run_started: datetime | None) -> bool:
    """Whether a catch-up run is owed: a due moment passed and no run started since.

    One answer per pipeline, however many moments passed: the caller runs it once."""
    if last_due is None:
        return False
    return last_run_started is None or last_run_started < last_due
