"""Reading an RFC 5322 date-time: its grammar (3.3, or obsolete 4.3) and the
rules 3.3 sets on what it says. The linter and the parser share it.

    >>> read_date("Fri, 21 Nov 1997 09:55:06 -0600")
    DateReading(fields=(1997, 11, 21, 9, 55, 6, -360), obsolete=False, problem=None)
    >>> read_date("21 Nov 97 09:55 EST").fields
    (1997, 11, 21, 9, 55, 0, -300)
    >>> read_date("Mon, 31 Feb 2025 10:00:00 +0000").problem
    'day 31 is not in February 2025'
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

from ._grammar import COMMENT, DATE_TIME, OBS_DATE_TIME

__all__ = ["DateReading", "read_date"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# RFC 5322 4.3 obs-zone: UT and GMT are +0000; the US zones have their
# offsets; the military letters "SHOULD all be considered equivalent to
# -0000", which is no offset known, read as UTC.
_OBS_ZONES = {"ut": 0, "gmt": 0, "edt": -4 * 60, "est": -5 * 60, "cdt": -5 * 60,
              "cst": -6 * 60, "mdt": -6 * 60, "mst": -7 * 60, "pdt": -7 * 60,
              "pst": -8 * 60}


class DateReading(NamedTuple):
    """What a Date field says: (year, month, day, hour, minute, second, zone
    offset in minutes), whether only the obsolete grammar reads it, and the
    first RFC 5322 3.3 rule the values break (None when they break none).
    ``fields`` is None when no grammar reads the text; ``problem`` says why."""

    fields: tuple[int, int, int, int, int, int, int] | None
    obsolete: bool
    problem: str | None


def read_date(value: str) -> DateReading:
    """Read ``value`` (a Date field's unfolded value) by RFC 5322 3.3, else 4.3."""
    obsolete = False
    m = DATE_TIME.fullmatch(value)
    if m is None:
        text = COMMENT.sub(" ", value)
        m = OBS_DATE_TIME.fullmatch(text)
        if m is None:
            if OBS_DATE_TIME.fullmatch(text + " +0000"):
                return DateReading(None, False, "it has no time zone")
            shown = value.strip()
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            return DateReading(None, False, f"{shown!r} is not an RFC 5322 date-time")
        obsolete = True
    year_text = m.group("year")
    year = int(year_text)
    if len(year_text) == 2:
        # RFC 5322 4.3: 00-49 is 2000-2049, 50-99 is 1950-1999
        year += 2000 if year < 50 else 1900
    elif len(year_text) == 3:
        year += 1900
    month = _MONTHS.index(m.group("month").lower()) + 1
    day, hour, minute = int(m.group("day")), int(m.group("hour")), int(m.group("minute"))
    second = int(m.group("second") or 0)
    zone = m.group("zone")
    if zone[0] in "+-":
        offset = (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 60 + int(zone[3:5]))
    else:
        offset = _OBS_ZONES.get(zone.lower(), 0)
    fields = (year, month, day, hour, minute, second, offset)
    return DateReading(fields, obsolete, _problem(fields, m.group("dow")))


def _problem(fields: tuple[int, ...], dow: str | None) -> str | None:
    """The first rule of RFC 5322 3.3 the values break."""
    year, month, day, hour, minute, second, offset = fields
    # "year is any numeric year 1900 or later"
    if year < 1900:
        return f"the year {year} is before 1900"
    # "day MUST be between 1 and the number of days allowed for the
    # specified month (in the specified year)"
    if not 1 <= day <= _days_in(year, month):
        return f"day {day} is not in {_MONTH_NAMES[month - 1]} {year}"
    # "time-of-day MUST be in the range 00:00:00 through 23:59:60 (the
    # number of seconds allowing for a leap second)"
    if hour > 23 or minute > 59 or second > 60:
        return f"{hour:02d}:{minute:02d}:{second:02d} is not a time of day"
    # "the zone MUST be within the range -9959 through +9959"; four digits
    # give at most 9999
    if abs(offset) > 99 * 60 + 59:
        return "the zone is outside -9959 through +9959"
    # "the day-of-week (if included) MUST be the day implied by the date"
    if dow is not None:
        implied = _weekday(year, month, day)
        if dow.lower() != _DAYS[implied]:
            said = _DAY_NAMES[_DAYS.index(dow.lower())]
            return (f"{day} {_MONTH_NAMES[month - 1]} {year} is a {_DAY_NAMES[implied]}, "
                    f"not a {said}")
    return None


def _days_in(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _weekday(year: int, month: int, day: int) -> int:
    """Monday is 0. The Gregorian calendar repeats every 400 years, so years
    past datetime's 9999 are read as one in 2000-2399."""
    return datetime.date(2000 + year % 400, month, day).weekday()
