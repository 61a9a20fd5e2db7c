//! XML text and OAI-PMH datestamps.

/// Text escaped for an XML element or a double-quoted attribute. Characters XML 1.0 cannot hold
/// at all (most control characters) are dropped.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds since the epoch as an OAI-PMH datestamp, `YYYY-MM-DDThh:mm:ssZ`.
pub fn datestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

/// How precise a request's datestamp was: a day, or a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Second,
}

/// A `from`/`until` argument: the first and last millisecond it covers, and its granularity.
pub fn parse_datestamp(text: &str) -> Option<(i64, i64, Granularity)> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?.parse::<i32>().ok()?, parts.next()?.parse::<u8>().ok()?, parts.next()?.parse::<u8>().ok()?);
    if date.as_bytes()[4] != b'-' || date.as_bytes()[7] != b'-' {
        return None;
    }
    let day = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    let midnight = day.midnight().assume_utc().unix_timestamp() * 1000;
    match &text[10..] {
        "" => Some((midnight, midnight + 86_400_000 - 1, Granularity::Day)),
        rest => {
            let hms = rest.strip_prefix('T')?.strip_suffix('Z')?;
            let b = hms.as_bytes();
            if b.len() != 8 || b[2] != b':' || b[5] != b':' {
                return None;
            }
            let num = |r: std::ops::Range<usize>| hms.get(r)?.parse::<i64>().ok();
            let (h, mi, s) = (num(0..2)?, num(3..5)?, num(6..8)?);
            if h > 23 || mi > 59 || s > 59 {
                return None;
            }
            let at = midnight + ((h * 60 + mi) * 60 + s) * 1000;
            Some((at, at + 999, Granularity::Second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(esc("<a href=\"x\">&</a>\u{1}\n"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;\n");
    }

    #[test]
    fn datestamps_round_trip_at_both_granularities() {
        assert_eq!(datestamp(0), "1970-01-01T00:00:00Z");
        let (from, to, g) = parse_datestamp("2026-12-03").unwrap();
        assert_eq!(
            (datestamp(from), datestamp(to), g),
            ("2026-12-03T00:00:00Z".into(), "2026-12-03T23:59:59Z".into(), Granularity::Day)
        );
        let (from, to, g) = parse_datestamp("2026-12-03T07:05:09Z").unwrap();
        assert_eq!((datestamp(from), to - from, g), ("2026-12-03T07:05:09Z".into(), 999, Granularity::Second));
        for bad in
            ["2026-13-01", "2026-02-30", "2026-12-03T07:05Z", "2026-12-03 07:05:09", "20261203", "2026-12-03T24:00:00Z", "x"]
        {
            assert_eq!(parse_datestamp(bad), None, "{bad}");
        }
    }
}
