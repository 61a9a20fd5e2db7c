//! Identifiers: calendar arithmetic, GB 11643 check digits, unique mobile numbers, Chinese
//! numerals.

use crate::rng::mix;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYYMMDD` of a day number.
pub(crate) fn yyyymmdd(day: i64) -> [u8; 8] {
    let (y, m, d) = civil_from_days(day);
    let mut out = [b'0'; 8];
    let v = y.clamp(0, 9999) as u32 * 10_000 + m * 100 + d;
    write_padded(&mut out, u64::from(v));
    out
}

/// The GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits of an ID number.
pub(crate) fn check_char(digits17: &[u8]) -> u8 {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits17.iter().zip(W).map(|(&d, w)| u32::from(d - b'0') * w).sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// Whether an 18-character ID number's check character is right.
pub fn id_check_ok(id18: &str) -> bool {
    let b = id18.as_bytes();
    b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && check_char(&b[..17]) == b[17]
}

/// Writes `v` zero-padded into all of `out` (the lowest digits if it is too long).
#[inline]
pub(crate) fn write_padded(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// A 4-round Feistel permutation of `0..10^8` (two halves of `0..10^4`) keyed by `key`: a
/// bijection, so distinct counters give distinct, scattered 8-digit numbers.
pub(crate) fn scramble8(x: u64, key: u64) -> u64 {
    debug_assert!(x < 100_000_000);
    let (mut l, mut r) = (x / 10_000, x % 10_000);
    for round in 0..4u64 {
        let f = mix(r ^ key.wrapping_add(round.wrapping_mul(0x9E37_79B9_7F4A_7C15))) % 10_000;
        (l, r) = (r, (l + f) % 10_000);
    }
    l * 10_000 + r
}

/// Mobile numbers from a counter: the prefix by `n % prefixes.len()`, the 8 digits after it by a
/// bijection of `n / prefixes.len()` keyed by the key and the prefix. Distinct counters below
/// `prefixes.len() * 10^8` give distinct numbers; disjoint prefix lists give disjoint sets.
pub(crate) struct Phones {
    prefixes: &'static [&'static [u8; 3]],
    key: u64,
}

/// Teachers' numbers start with these; parents' never do.
pub(crate) const TEACHER_PREFIXES: &[&[u8; 3]] = &[b"135", b"136", b"137", b"138", b"139", b"158", b"187", b"188"];
pub(crate) const PARENT_PREFIXES: &[&[u8; 3]] = &[
    b"130", b"131", b"132", b"133", b"134", b"150", b"151", b"152", b"155", b"156", b"157", b"159", b"176", b"177", b"180",
    b"181", b"182", b"183", b"185", b"186", b"189", b"191", b"198", b"199",
];

impl Phones {
    pub(crate) fn new(prefixes: &'static [&'static [u8; 3]], key: u64) -> Phones {
        Phones { prefixes, key }
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.prefixes.len() as u64 * 100_000_000
    }

    #[inline]
    pub(crate) fn number(&self, n: u64) -> [u8; 11] {
        let p = self.prefixes.len() as u64;
        let (q, r) = (n / p, n % p);
        let mut out = [0u8; 11];
        out[..3].copy_from_slice(self.prefixes[r as usize]);
        // One permutation per prefix: neighbouring counters share neither prefix nor digits.
        write_padded(&mut out[3..], scramble8(q, self.key ^ mix(r)));
        out
    }
}

const CN_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// 0..=9999 in Chinese numerals; `leading` drops the 一 of 一十 (十二 rather than 一十二).
fn cn4(n: u64, leading: bool, out: &mut String) {
    const UNITS: [&str; 4] = ["千", "百", "十", ""];
    let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let first = digits.iter().position(|&d| d != 0).unwrap_or(3);
    let mut zero = false;
    for (i, &d) in digits.iter().enumerate().skip(first) {
        if d == 0 {
            zero = true;
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        if !(leading && i == 2 && d == 1 && i == first) {
            out.push_str(CN_DIGITS[d as usize]);
        }
        out.push_str(UNITS[i]);
    }
}

/// A positive number in Chinese numerals: 三, 十二, 一百零五, 一万零三十.
pub(crate) fn cn(n: u64) -> String {
    let mut out = String::new();
    if n == 0 {
        out.push('零');
    } else if n < 10_000 {
        cn4(n, true, &mut out);
    } else if n < 100_000_000 {
        cn4(n / 10_000, true, &mut out);
        out.push('万');
        let rest = n % 10_000;
        if rest > 0 {
            if rest < 1000 {
                out.push('零');
            }
            cn4(rest, false, &mut out);
        }
    } else {
        out = n.to_string().bytes().map(|b| CN_DIGITS[usize::from(b - b'0')]).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2020, 2, 29)), (2020, 2, 29));
        assert_eq!(&yyyymmdd(days_from_civil(2018, 5, 12)), b"20180512");
        for d in -800_000..-700_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn check_digits_follow_gb11643() {
        // Sample numbers with published check characters.
        assert!(id_check_ok("11010519491231002X"));
        assert!(id_check_ok("440524188001010014"));
        assert!(!id_check_ok("440524188001010015"));
    }

    #[test]
    fn chinese_numerals() {
        let cases = [
            (1, "一"),
            (10, "十"),
            (12, "十二"),
            (20, "二十"),
            (35, "三十五"),
            (100, "一百"),
            (105, "一百零五"),
            (110, "一百一十"),
            (1001, "一千零一"),
            (1010, "一千零一十"),
            (10_030, "一万零三十"),
            (120_000, "十二万"),
        ];
        for (n, s) in cases {
            assert_eq!(cn(n), s, "{n}");
        }
    }

    #[test]
    fn phone_numbers_are_a_bijection() {
        let phones = Phones::new(TEACHER_PREFIXES, 42);
        let mut seen = std::collections::HashSet::new();
        for n in 0..200_000 {
            let p = phones.number(n);
            assert!(p.iter().all(u8::is_ascii_digit));
            assert!(seen.insert(p));
        }
    }
}
