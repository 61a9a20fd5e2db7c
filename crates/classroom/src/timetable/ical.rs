//! iCalendar (RFC 5545) written by hand: one weekly recurring event per lesson and bell-schedule
//! variant, in UTC, so any phone calendar shows the lessons at the right local time without a
//! time-zone database.

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A weekly series: the first lesson's start and end, and the last lesson's start (UNTIL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub until: OffsetDateTime,
}

impl Series {
    /// The lessons on `weekday` (1 = Monday) from `from` to `to` inclusive, at local minutes
    /// `starts..ends` in a zone `offset_minutes` east of UTC; None if no such day falls in the range.
    pub fn weekly(from: Date, to: Date, weekday: i64, starts: i64, ends: i64, offset_minutes: i32) -> Option<Series> {
        let ahead = (weekday - i64::from(from.weekday().number_from_monday())).rem_euclid(7);
        let first = from.checked_add(Duration::days(ahead))?;
        if first > to {
            return None;
        }
        let last = first.checked_add(Duration::weeks((to - first).whole_weeks()))?;
        let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).ok()?;
        let at = |day: Date, minute: i64| -> Option<OffsetDateTime> {
            let midnight = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(offset);
            Some((midnight + Duration::minutes(minute)).to_offset(UtcOffset::UTC))
        };
        Some(Series { start: at(first, starts)?, end: at(first, ends)?, until: at(last, starts)? })
    }
}

/// One VEVENT.
#[derive(Debug, Clone)]
pub struct Event {
    /// Stable across publications, so a calendar updates the event instead of adding another.
    pub uid: String,
    /// DTSTAMP: when the timetable was published.
    pub stamp: i64,
    /// Grows with each publication.
    pub sequence: i64,
    pub series: Series,
    pub summary: String,
    pub location: String,
    pub description: String,
}

fn utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year(), t.month() as u8, t.day(), t.hour(), t.minute(), t.second())
}

/// TEXT value escaping (RFC 5545 3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no line exceeds 75 octets (RFC 5545 3.1), never inside
/// a UTF-8 character, each ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// A whole VCALENDAR with the given name and events.
pub fn calendar(name: &str, events: &[Event]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Hanlin//Timetable//ZH");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&e.uid)));
        let stamp = OffsetDateTime::from_unix_timestamp(e.stamp).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        line(&mut out, &format!("DTSTAMP:{}", utc(stamp)));
        line(&mut out, &format!("SEQUENCE:{}", e.sequence));
        line(&mut out, &format!("DTSTART:{}", utc(e.series.start)));
        line(&mut out, &format!("DTEND:{}", utc(e.series.end)));
        line(&mut out, &format!("RRULE:FREQ=WEEKLY;UNTIL={}", utc(e.series.until)));
        line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        if !e.location.is_empty() {
            line(&mut out, &format!("LOCATION:{}", escape(&e.location)));
        }
        if !e.description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", escape(&e.description)));
        }
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_weekly_series_starts_on_the_first_matching_day_in_utc() {
        // 2026-09-01 is a Tuesday; Mondays from 7 September, 08:00-08:40 in UTC+8.
        let s = Series::weekly(date!(2026 - 09 - 01), date!(2026 - 09 - 30), 1, 480, 520, 480).unwrap();
        assert_eq!(s.start, datetime!(2026-09-07 00:00 UTC));
        assert_eq!(s.end, datetime!(2026-09-07 00:40 UTC));
        assert_eq!(s.until, datetime!(2026-09-28 00:00 UTC));
        // An early lesson falls on the previous day in UTC.
        let s = Series::weekly(date!(2026 - 09 - 01), date!(2026 - 09 - 30), 2, 7 * 60, 7 * 60 + 30, 480).unwrap();
        assert_eq!(s.start, datetime!(2026-08-31 23:00 UTC));
        // No Sunday between a Monday and a Wednesday.
        assert!(Series::weekly(date!(2026 - 09 - 07), date!(2026 - 09 - 09), 7, 480, 520, 480).is_none());
    }

    #[test]
    fn text_is_escaped_and_long_lines_fold_between_characters() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let mut out = String::new();
        let long = format!("DESCRIPTION:{}", "语文课".repeat(20));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, long);
        assert!(out.ends_with("\r\n") && !out.contains("\n\n"));
    }

    #[test]
    fn a_calendar_has_its_required_properties() {
        let series = Series::weekly(date!(2026 - 09 - 01), date!(2026 - 09 - 30), 1, 480, 520, 480).unwrap();
        let e = Event {
            uid: "timetable-1-1-1-1@hanlin".into(),
            stamp: 1_790_000_000,
            sequence: 2,
            series,
            summary: "数学".into(),
            location: "301, 东楼".into(),
            description: String::new(),
        };
        let text = calendar("王老师的课表", &[e]);
        for needed in [
            "BEGIN:VCALENDAR\r\n",
            "VERSION:2.0\r\n",
            "PRODID:",
            "UID:timetable-1-1-1-1@hanlin\r\n",
            "DTSTAMP:",
            "DTSTART:20260907T000000Z\r\n",
            "RRULE:FREQ=WEEKLY;UNTIL=20260928T000000Z\r\n",
            "LOCATION:301\\, 东楼\r\n",
            "END:VCALENDAR\r\n",
        ] {
            assert!(text.contains(needed), "{needed:?} in {text}");
        }
    }
}
