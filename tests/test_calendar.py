"""Business days (NL per the Algemene termijnenwet, BE), closing days, and the send window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.core.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    SendWindow,
    UnknownCountry,
    UnknownTimezone,
    calendar_for,
    check_timezone,
)
from dunning.core.errors import ConfigError

NL = calendar_for("NL")
BE = calendar_for("BE")
OFFICE = SendWindow(time(8), time(20))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def business_days_between(calendar: BusinessCalendar, first: date, last: date) -> int:
    """Business days strictly between two dates, counted one by one."""
    low, high = sorted((first, last))
    days = (low + timedelta(days=offset) for offset in range(1, (high - low).days))
    return sum(calendar.is_business_day(day) for day in days)


# --- NL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 4, 3), "Good Friday"),  # equated by Atw art. 3 lid 2
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 4, 27), "King's Day"),
        (date(2026, 5, 5), "Liberation Day"),
        (date(2026, 5, 14), "Ascension Day"),
        (date(2026, 5, 25), "Pentecost Monday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Second Day of Christmas"),
    ],
)
def test_dutch_legal_holidays_of_2026_are_not_business_days(day: date, holiday: str) -> None:
    assert not NL.is_business_day(day)
    assert NL.is_holiday(day)
    assert NL.holiday_name(day) == holiday
    assert NL.why_closed(day) == f"{holiday} (public holiday, NL)"


def test_the_day_after_kings_day_2026_is_a_business_day() -> None:
    assert NL.is_business_day(date(2026, 4, 28))
    assert NL.why_closed(date(2026, 4, 28)) is None
    assert NL.holiday_name(date(2026, 4, 28)) is None


def test_kings_day_on_a_sunday_moves_to_the_saturday_before() -> None:
    # 27 April 2025 was a Sunday; King's Day was celebrated on Saturday 26 April 2025.
    assert NL.holiday_name(date(2025, 4, 26)) == "King's Day"
    assert NL.holiday_name(date(2025, 4, 27)) is None
    assert NL.why_closed(date(2025, 4, 27)) == "Sunday"


def test_liberation_day_counts_in_years_that_are_not_a_lustrum() -> None:
    # `holidays` files 5 May under "optional" outside lustrum years; the Atw counts it every year.
    assert NL.holiday_name(date(2027, 5, 5)) == "Liberation Day"
    assert not NL.is_business_day(date(2027, 5, 5))  # a Wednesday


def test_the_friday_after_ascension_is_open_unless_configured_closed() -> None:
    friday = date(2026, 5, 15)
    assert NL.is_business_day(friday)
    assert not calendar_for("NL", (friday,)).is_business_day(friday)


# --- BE -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # Labour Day
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Whit Monday
        date(2026, 7, 21),  # National Day
        date(2026, 8, 15),  # Assumption (a Saturday in 2026)
        date(2026, 11, 1),  # All Saints (a Sunday in 2026)
        date(2026, 11, 11),  # Armistice
        date(2026, 12, 25),  # Christmas
    ],
)
def test_belgian_legal_holidays_of_2026_are_holidays(day: date) -> None:
    assert BE.is_holiday(day)
    assert not BE.is_business_day(day)
    assert BE.why_closed(day) == f"{BE.holiday_name(day)} (public holiday, BE)"


def test_liberation_day_is_a_business_day_in_belgium() -> None:
    assert BE.is_business_day(date(2026, 5, 5))
    assert not NL.is_business_day(date(2026, 5, 5))


# --- closing days, weekends, weekdays --------------------------------------------------------


def test_closing_days_from_the_config_are_closed_and_say_why() -> None:
    closing = date(2026, 12, 28)  # a Monday between Christmas and New Year
    calendar = BusinessCalendar("NL", extra_closed=[closing])
    assert not calendar.is_business_day(closing)
    assert calendar.is_holiday(closing)
    assert calendar.holiday_name(closing) == "closing day (config)"
    assert calendar.why_closed(closing) == "closing day listed in pipelines.yaml"
    assert NL.is_business_day(closing)


def test_a_public_holiday_that_is_also_a_closing_day_is_named_as_the_holiday() -> None:
    calendar = BusinessCalendar("NL", extra_closed=[date(2026, 4, 27)])
    assert calendar.holiday_name(date(2026, 4, 27)) == "King's Day"


def test_weekend_days_say_saturday_and_sunday() -> None:
    assert NL.why_closed(date(2026, 3, 14)) == "Saturday"
    assert NL.why_closed(date(2026, 3, 15)) == "Sunday"
    assert not NL.is_holiday(date(2026, 3, 14))
    assert NL.why_closed(date(2026, 3, 16)) is None


def test_business_weekdays_can_include_saturday() -> None:
    shop = calendar_for("NL", business_weekdays=(0, 1, 2, 3, 4, 5))
    assert shop.is_business_day(date(2026, 3, 14))  # Saturday
    assert not shop.is_business_day(date(2026, 3, 15))  # Sunday
    assert not shop.is_business_day(date(2025, 4, 26))  # King's Day on a Saturday
    assert shop.add_business_days(date(2026, 3, 13), 1) == date(2026, 3, 14)
    assert NL.add_business_days(date(2026, 3, 13), 1) == date(2026, 3, 16)


def test_a_weekday_outside_the_business_week_is_named() -> None:
    four_days = BusinessCalendar("NL", business_weekdays=(0, 1, 2, 3))
    assert four_days.why_closed(date(2026, 3, 13)) == "Friday"


def test_weekday_abbreviations_map_to_python_weekday_numbers() -> None:
    assert [WEEKDAYS[name] for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")] == list(
        range(7)
    )
    assert date(2026, 3, 15).weekday() == WEEKDAYS["sun"]


@pytest.mark.parametrize("weekdays", [(), (0, 7), (-1,)])
def test_an_impossible_business_week_is_refused(weekdays: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="business weekdays"):
        BusinessCalendar("NL", business_weekdays=weekdays)


def test_a_datetime_is_refused_where_a_date_is_expected() -> None:
    with pytest.raises(TypeError, match="not a datetime"):
        NL.is_business_day(datetime(2026, 4, 27, 12, tzinfo=UTC))


# --- moving through the calendar -------------------------------------------------------------


def test_next_business_day_skips_the_christmas_weekend() -> None:
    # 24 Dec 2026 is a Thursday; 25 (Fri) and 26 (Sat) are Christmas, 27 is Sunday.
    assert NL.next_business_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert NL.next_business_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert NL.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)


def test_add_business_days_skips_good_friday_and_easter_monday() -> None:
    # Thu 2 Apr 2026 + 1 business day: Good Friday 3, the weekend and Easter Monday 6 are skipped.
    assert NL.add_business_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert NL.add_business_days(date(2026, 4, 1), 3) == date(2026, 4, 8)
    assert BE.add_business_days(date(2026, 4, 2), 1) == date(2026, 4, 3)  # Good Friday open in BE


def test_negative_counts_go_back_strictly_before_the_day() -> None:
    assert NL.add_business_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert NL.add_business_days(date(2026, 3, 18), -1) == date(2026, 3, 17)
    assert NL.add_business_days(date(2026, 3, 16), -1) == date(2026, 3, 13)
    assert NL.add_business_days(date(2026, 3, 16), -5) == date(2026, 3, 9)


def test_count_zero_on_a_holiday_gives_the_next_business_day() -> None:
    assert NL.add_business_days(date(2026, 4, 27), 0) == date(2026, 4, 28)
    assert NL.add_business_days(date(2026, 4, 28), 0) == date(2026, 4, 28)


def test_add_days_counts_calendar_or_business_days() -> None:
    friday = date(2026, 4, 24)
    assert NL.add_days(friday, 3, "calendar") == date(2026, 4, 27)  # lands on King's Day
    assert NL.add_days(friday, 3, "business") == date(2026, 4, 30)
    with pytest.raises(ValueError, match="calendar, business"):
        NL.add_days(friday, 3, "working")


def test_memoised_answers_match_a_fresh_calendar() -> None:
    day = date(2026, 5, 4)
    first = NL.add_business_days(day, 10)
    assert NL.add_business_days(day, 10) == first
    assert BusinessCalendar("NL").add_business_days(day, 10) == first == date(2026, 5, 20)


def test_calendars_of_one_country_are_shared() -> None:
    closed = (date(2026, 5, 15), date(2026, 12, 28))
    assert calendar_for("nl") is calendar_for(" NL ")
    assert calendar_for("NL", closed) is calendar_for("NL", closed[::-1])
    assert calendar_for("NL", closed) is not calendar_for("NL")
    assert calendar_for("be").country == "BE"


def test_other_countries_that_holidays_knows_work() -> None:
    assert not calendar_for("DE").is_business_day(date(2026, 10, 3))  # German Unity Day
    assert calendar_for("UK").country == "GB"


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    count=st.integers(min_value=0, max_value=30),
    country=st.sampled_from(["NL", "BE"]),
)
def test_adding_business_days_lands_on_the_countth_business_day_after(
    day: date, count: int, country: str
) -> None:
    calendar = calendar_for(country)
    result = calendar.add_business_days(day, count)
    assert calendar.is_business_day(result)
    if count == 0:
        assert result >= day
        assert business_days_between(calendar, day - timedelta(days=1), result) == 0
    else:
        assert result > day
        assert business_days_between(calendar, day, result) == count - 1


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    count=st.integers(min_value=1, max_value=30),
    country=st.sampled_from(["NL", "BE"]),
)
def test_subtracting_business_days_lands_on_the_countth_business_day_before(
    day: date, count: int, country: str
) -> None:
    calendar = calendar_for(country)
    result = calendar.add_business_days(day, -count)
    assert calendar.is_business_day(result)
    assert result < day
    assert business_days_between(calendar, result, day) == count - 1


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["XX", "Netherlands", ""])
def test_an_unknown_country_names_the_code_and_the_fix(code: str) -> None:
    with pytest.raises(UnknownCountry, match="ISO 3166 two-letter code") as caught:
        calendar_for(code)
    assert repr(code) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ConfigError)


def test_a_three_letter_country_code_suggests_the_two_letter_one() -> None:
    with pytest.raises(UnknownCountry, match=r"did you mean NL\?"):
        BusinessCalendar("NLD")


def test_an_unknown_time_zone_suggests_an_iana_name() -> None:
    with pytest.raises(UnknownTimezone) as caught:
        check_timezone("Europe/Amsterdm")
    message = str(caught.value)
    assert "unknown time zone 'Europe/Amsterdm'" in message
    assert "use an IANA name such as Europe/Amsterdam" in message
    assert "did you mean Europe/Amsterdam?" in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ["", "Europe", "/etc/localtime", "../zoneinfo/UTC"])
def test_malformed_time_zone_names_are_unknown_time_zones(name: str) -> None:
    with pytest.raises(UnknownTimezone):
        check_timezone(name)


def test_a_valid_time_zone_is_returned_unchanged() -> None:
    assert check_timezone("America/New_York") == "America/New_York"


def test_the_send_window_rejects_an_unknown_time_zone() -> None:
    with pytest.raises(UnknownTimezone):
        OFFICE.contains(utc(2026, 6, 15, 12), "Mars/Olympus_Mons")


# --- send window ----------------------------------------------------------------------------


def test_one_instant_is_inside_or_outside_depending_on_the_recipients_zone() -> None:
    evening = utc(2026, 6, 15, 18, 30)  # 20:30 Amsterdam, 19:30 Lisbon, 14:30 New York
    assert not OFFICE.contains(evening, "Europe/Amsterdam")
    assert OFFICE.contains(evening, "Europe/Lisbon")
    assert OFFICE.contains(evening, "America/New_York")
    morning = utc(2026, 6, 15, 6, 30)  # 08:30 Amsterdam, 07:30 Lisbon, 02:30 New York
    assert OFFICE.contains(morning, "Europe/Amsterdam")
    assert not OFFICE.contains(morning, "Europe/Lisbon")
    assert not OFFICE.contains(morning, "America/New_York")


def test_local_gives_the_recipients_wall_clock() -> None:
    local = OFFICE.local(utc(2026, 6, 15, 18, 30), "America/New_York")
    assert (local.hour, local.minute) == (14, 30)
    assert local == utc(2026, 6, 15, 18, 30)


def test_the_window_follows_the_dst_change_of_29_march_2026() -> None:
    # Clocks in Amsterdam go from 02:00 CET to 03:00 CEST on Sunday 29 March 2026.
    assert not OFFICE.contains(utc(2026, 3, 28, 6, 30), "Europe/Amsterdam")  # 07:30 CET
    assert OFFICE.contains(utc(2026, 3, 29, 6, 30), "Europe/Amsterdam")  # 08:30 CEST
    assert OFFICE.next_opening(utc(2026, 3, 28, 20), "Europe/Amsterdam") == utc(2026, 3, 29, 6)
    assert OFFICE.next_opening(utc(2026, 3, 27, 20), "Europe/Amsterdam") == utc(2026, 3, 28, 7)


def test_a_start_skipped_by_the_spring_forward_opens_at_the_jump() -> None:
    night = SendWindow(time(2, 30), time(5))
    opening = night.next_opening(utc(2026, 3, 29, 0), "Europe/Amsterdam")
    assert opening == utc(2026, 3, 29, 1)  # 03:00 CEST, the first moment past 02:30
    assert night.contains(opening, "Europe/Amsterdam")
    just_before = opening.astimezone(UTC) - timedelta(microseconds=1)  # 01:59:59.999999 CET
    assert not night.contains(just_before, "Europe/Amsterdam")


def test_a_start_repeated_by_the_fall_back_opens_at_the_first_repetition_ahead() -> None:
    # On 25 October 2026 Amsterdam's clocks show 02:00-03:00 twice (CEST, then CET).
    # An ambiguous wall time never compares == across zones (PEP 495): compare in UTC.
    night = SendWindow(time(2, 30), time(2, 45))
    zone = "Europe/Amsterdam"
    first = night.next_opening(utc(2026, 10, 25, 0, 10), zone)
    assert first.astimezone(UTC) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = night.next_opening(utc(2026, 10, 25, 1, 10), zone)  # 02:10 CET, 02:30 CEST passed
    assert second.astimezone(UTC) == utc(2026, 10, 25, 1, 30)  # 02:30 CET
    assert (first.time(), second.time()) == (time(2, 30), time(2, 30))


def test_the_end_of_the_window_is_exclusive_and_the_start_inclusive() -> None:
    zone = "Europe/Amsterdam"
    assert OFFICE.contains(utc(2026, 6, 15, 6), zone)  # 08:00
    assert OFFICE.contains(utc(2026, 6, 15, 17, 59, 59, 999999), zone)
    assert not OFFICE.contains(utc(2026, 6, 15, 18), zone)  # 20:00
    assert not OFFICE.contains(utc(2026, 6, 15, 5, 59, 59), zone)


def test_next_opening_inside_the_window_is_the_moment_itself_in_the_recipients_zone() -> None:
    moment = utc(2026, 6, 15, 10)
    opening = OFFICE.next_opening(moment, "Europe/Lisbon")
    assert opening == moment
    assert opening.utcoffset() == timedelta(hours=1)


def test_next_opening_before_the_start_is_todays_start() -> None:
    opening = OFFICE.next_opening(utc(2026, 6, 15, 4), "Europe/Amsterdam")  # 06:00 local
    assert opening == utc(2026, 6, 15, 6)
    assert (opening.date(), opening.time()) == (date(2026, 6, 15), time(8))


def test_next_opening_after_the_end_is_tomorrows_start() -> None:
    opening = OFFICE.next_opening(utc(2026, 6, 15, 18, 30), "Europe/Amsterdam")  # 20:30 local
    assert opening == utc(2026, 6, 16, 6)
    assert (opening.date(), opening.time()) == (date(2026, 6, 16), time(8))


def test_next_opening_late_at_night_utc_uses_the_recipients_date() -> None:
    # 23:30 UTC on 15 June is 19:30 on 15 June in New York: still open there.
    assert OFFICE.next_opening(utc(2026, 6, 15, 23, 30), "America/New_York") == utc(
        2026, 6, 15, 23, 30
    )
    # 01:30 UTC on 16 June is 21:30 on 15 June in New York: opens 08:00 on 16 June there.
    assert OFFICE.next_opening(utc(2026, 6, 16, 1, 30), "America/New_York") == utc(2026, 6, 16, 12)


@pytest.mark.parametrize("method", ["contains", "local", "next_opening"])
def test_a_naive_datetime_is_refused(method: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        getattr(OFFICE, method)(datetime(2026, 6, 15, 12), "Europe/Amsterdam")


def test_a_window_parses_and_prints_as_hh_mm() -> None:
    window = SendWindow.parse("08:00-20:00")
    assert window == OFFICE
    assert str(window) == "08:00-20:00"
    assert SendWindow.parse(" 7:30 - 21:00 ") == SendWindow(time(7, 30), time(21))


@pytest.mark.parametrize("text", ["8-20", "08:00", "08:00-20", "08.00-20.00", "", "morning"])
def test_a_malformed_window_names_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        SendWindow.parse(text)


def test_a_window_with_an_impossible_time_names_the_expected_form() -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        SendWindow.parse("08:00-24:00")


@pytest.mark.parametrize("text", ["20:00-08:00", "08:00-08:00"])
def test_a_window_must_start_before_it_ends(text: str) -> None:
    with pytest.raises(ValueError, match="start must be before the end"):
        SendWindow.parse(text)
