//! Literal values: durations, sizes, IP networks and globs, parsed from
//! their text form and printed back in a canonical one.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ValueError;

/// Duration units, largest first so formatting picks the coarsest exact unit.
const DURATION_UNITS: [(char, i64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Size units, largest first; 1024-based as queue tools (and `du`) use.
const SIZE_UNITS: [(char, i64); 3] = [('G', 1 << 30), ('M', 1 << 20), ('K', 1 << 10)];

/// The message for a duration written without a unit (`n` is the number).
fn duration_unit_needed(n: &str) -> String {
    format!(
        "a duration needs a unit: s, m, h, d or w (seconds, minutes, hours, days, weeks; \
         e.g. {n}d for {n} days)"
    )
}

/// The message for a size written without a unit (`n` is the number).
fn size_unit_needed(n: &str) -> String {
    format!(
        "a size needs a unit: B, K, M or G (bytes, or 1024-based kilo-, mega-, gigabytes; \
         e.g. {n}K for {n} kilobytes)"
    )
}

/// Whether a value is a bare zero (`0`, `00`): the one number that needs
/// no unit, as it means the same in every unit (`age > 0`, `size > 0`).
fn is_zero(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

/// Parses a duration: `30s`, `15m`, `2h`, `2d`, `1w`, or a sum of unit
/// terms such as `1d12h`. A number needs a unit (`5` is an error: seconds,
/// as it once meant, made `--older-than 5` select a whole queue), except
/// `0`, which is the same in every unit.
pub(crate) fn parse_duration(s: &str) -> Result<i64, ValueError> {
    if is_zero(s) {
        return Ok(0);
    }
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(ValueError::new(
            0,
            "expected a duration such as 30m, 2h or 2d",
        ));
    }
    let mut total: i64 = 0;
    let mut i = 0;
    let mut terms = 0;
    while i < bytes.len() {
        let start = i;
        let n = digits(s, &mut i, "a duration such as 30m, 2h or 2d")?;
        terms += 1;
        let unit = match bytes.get(i) {
            None if terms == 1 => return Err(ValueError::new(i, duration_unit_needed(s))),
            None => {
                return Err(ValueError::new(
                    i,
                    "missing unit after the number (s, m, h, d or w)",
                ))
            }
            Some(&c) => match DURATION_UNITS.iter().find(|(u, _)| *u as u8 == c) {
                Some(&(_, secs)) => {
                    i += 1;
                    secs
                }
                None => {
                    let ch = s[i..].chars().next().unwrap_or('?');
                    return Err(ValueError::new(
                        i,
                        format!("unknown duration unit '{ch}' (use s, m, h, d or w)"),
                    ));
                }
            },
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| ValueError::new(start, "duration too large"))?;
    }
    Ok(total)
}

/// Parses a size: `512B` (bytes), `10K`, `1M`, `2G` (1024-based; the
/// unit's case does not matter and a trailing `B` or `iB` is allowed:
/// `10KiB`, `10kb`). A number needs a unit (`30` is an error: bytes, as it
/// once meant, is rarely what was meant), except `0`.
pub(crate) fn parse_size(s: &str) -> Result<i64, ValueError> {
    if is_zero(s) {
        return Ok(0);
    }
    let mut i = 0;
    let n = digits(s, &mut i, "a size such as 512B, 10K, 1M or 2G")?;
    let rest = &s[i..];
    let unit = match rest.to_ascii_uppercase().as_str() {
        "" => return Err(ValueError::new(i, size_unit_needed(s))),
        "B" => 1,
        u => {
            let letter = u.chars().next().unwrap_or('?');
            let suffix_ok = matches!(&u[letter.len_utf8()..], "" | "B" | "IB");
            match SIZE_UNITS.iter().find(|(c, _)| *c == letter) {
                Some(&(_, bytes)) if suffix_ok => bytes,
                _ => {
                    return Err(ValueError::new(
                        i,
                        format!("unknown size unit '{rest}' (use B, K, M or G, 1024-based)"),
                    ))
                }
            }
        }
    };
    n.checked_mul(unit)
        .ok_or_else(|| ValueError::new(0, "size too large"))
}

/// Parses a plain non-negative integer (epoch seconds and the like).
pub(crate) fn parse_plain_number(s: &str) -> Result<i64, ValueError> {
    let mut i = 0;
    let n = digits(s, &mut i, "a number")?;
    if i < s.len() {
        return Err(ValueError::new(i, "expected a plain number without a unit"));
    }
    Ok(n)
}

/// Reads a run of ASCII digits at `*i`, advancing past it.
fn digits(s: &str, i: &mut usize, what: &str) -> Result<i64, ValueError> {
    let start = *i;
    let bytes = s.as_bytes();
    while *i < bytes.len() && bytes[*i].is_ascii_digit() {
        *i += 1;
    }
    if *i == start {
        return Err(ValueError::new(start, format!("expected {what}")));
    }
    s[start..*i]
        .parse::<i64>()
        .map_err(|_| ValueError::new(start, "number too large"))
}

/// Prints seconds with the coarsest unit that is exact (`172800` → `2d`);
/// a mixed amount uses several terms (`1d12h`).
pub(crate) fn format_duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    if secs < 0 {
        // Only reachable for an arrival time in the future; print plainly.
        return format!("-{}", format_duration(secs.saturating_neg()));
    }
    let mut out = String::new();
    let mut rest = secs;
    // Weeks are only used when exact: "10d" reads better than "1w3d".
    for &(unit, size) in DURATION_UNITS.iter() {
        if unit == 'w' && rest % size != 0 {
            continue;
        }
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Prints bytes with the coarsest exact unit (`1048576` → `1M`, `1536` →
/// `1536B`), so that the text parses back; zero is `0`.
pub(crate) fn format_size(bytes: i64) -> String {
    if bytes == 0 {
        return "0".to_owned();
    }
    for &(unit, size) in SIZE_UNITS.iter() {
        if bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// An IP address or a CIDR network (an address is a network with a full
/// prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn max_prefix(addr: IpAddr) -> u8 {
        if addr.is_ipv4() {
            32
        } else {
            128
        }
    }

    /// Parses `192.0.2.1`, `192.0.2.0/24`, `2001:db8::1`, `2001:db8::/32`.
    /// Returns `Ok(None)` when the text is not written as an address at all
    /// (so the caller can treat it as text), and an error when it is an
    /// address with a wrong prefix.
    pub(crate) fn parse(s: &str) -> Result<Option<Net>, ValueError> {
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let Ok(addr) = addr_text.parse::<IpAddr>() else {
            if prefix_text.is_some() {
                return Err(ValueError::new(
                    0,
                    format!("'{addr_text}' is not an IP address"),
                ));
            }
            return Ok(None);
        };
        let max = Net::max_prefix(addr);
        let Some(p) = prefix_text else {
            return Ok(Some(Net { addr, prefix: max }));
        };
        let at = addr_text.len() + 1;
        let prefix = match p.parse::<u8>() {
            Ok(n) if n <= max && !p.starts_with('+') => n,
            _ => {
                return Err(ValueError::new(
                    at,
                    format!("prefix length must be 0 to {max}"),
                ))
            }
        };
        let net = Net {
            addr: mask(addr, prefix),
            prefix,
        };
        if net.addr != addr {
            // A typo such as 192.0.2.10/24 more likely meant /32 than the
            // whole /24; when purging mail, refuse rather than guess.
            return Err(ValueError::new(
                0,
                format!("{s} has host bits set; the network is {net}"),
            ));
        }
        Ok(Some(net))
    }

    /// Whether the address is inside this network. An IPv4-mapped IPv6
    /// address (`::ffff:192.0.2.1`) counts as its IPv4 address.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == Net::max_prefix(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// Clears the host bits of `addr` beyond `prefix`.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// Parses an IP address from a message's raw bytes without allocating.
pub(crate) fn ip_from_bytes(v: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Whether a value is a glob: it has a `*` or a `?`. Inside a glob, `\`
/// quotes the next character, so `a\*b` is a glob matching just `a*b`;
/// outside one, a backslash is an ordinary character.
pub(crate) fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Translates a glob into the body of an anchored regex: `*` is any run of
/// bytes, `?` one character (or one byte that is not UTF-8), `\` quotes the
/// next character, everything else is literal.
///
/// `fold_from` is the byte offset from which matching ignores case (the
/// domain part of an address glob); `Some(0)` folds the whole glob.
pub(crate) fn glob_to_regex(glob: &str, fold_from: Option<usize>) -> String {
    let mut out = String::with_capacity(glob.len() * 2 + 8);
    out.push('^');
    let mut folding = false;
    let mut chars = glob.char_indices();
    while let Some((i, c)) = chars.next() {
        if !folding && fold_from.is_some_and(|f| i >= f) {
            out.push_str("(?i:");
            folding = true;
        }
        match c {
            // Bytes regexes in Unicode mode do not let `.` match invalid
            // UTF-8, and queue files may hold any bytes: `(?s-u:.)` does.
            '*' => out.push_str("(?s-u:.)*"),
            '?' => out.push_str("(?:(?s:.)|(?s-u:.))"),
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    push_literal(&mut out, next);
                } else {
                    push_literal(&mut out, '\\');
                }
            }
            c => push_literal(&mut out, c),
        }
    }
    if folding {
        out.push(')');
    }
    out.push('$');
    out
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// The byte offset just past the last unescaped `@` of a glob, where its
/// domain part starts.
pub(crate) fn glob_domain_start(glob: &str) -> Option<usize> {
    let mut last = None;
    let mut chars = glob.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '@' => last = Some(i + 1),
            _ => {}
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap_err().at, 2);
        assert!(parse_duration("90")
            .unwrap_err()
            .message
            .starts_with("a duration needs a unit: s, m, h, d or w"));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("00"), Ok(0));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("30s"), Ok(30));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("1d12h"), Ok(129_600));
        assert_eq!(parse_duration("2x").unwrap_err().at, 1);
        assert_eq!(parse_duration("2D").unwrap_err().at, 1);
        assert_eq!(parse_duration("1d12").unwrap_err().at, 4);
        assert_eq!(parse_duration("d").unwrap_err().at, 0);
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("9999999999999999w").is_err());
    }

    #[test]
    fn durations_format_canonically() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(172_800), "2d");
        assert_eq!(format_duration(129_600), "1d12h");
        assert_eq!(format_duration(1_209_600), "2w");
        assert_eq!(format_duration(864_000), "10d");
        assert_eq!(format_duration(3_661), "1h1m1s");
        for s in ["2d", "1d12h", "2w", "10d", "1h1m1s", "45s"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512").unwrap_err().at, 3);
        assert!(parse_size("512")
            .unwrap_err()
            .message
            .starts_with("a size needs a unit: B, K, M or G"));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("512b"), Ok(512));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("0K"), Ok(0));
        assert_eq!(parse_size("10K"), Ok(10_240));
        assert_eq!(parse_size("10k"), Ok(10_240));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("10KiB"), Ok(10_240));
        assert_eq!(parse_size("10kb"), Ok(10_240));
        assert_eq!(parse_size("7B"), Ok(7));
        assert_eq!(parse_size("1X").unwrap_err().at, 1);
        assert_eq!(parse_size("1MM").unwrap_err().at, 1);
        assert_eq!(parse_size("M").unwrap_err().at, 0);
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(format_size(1 << 20), "1M");
        assert_eq!(format_size(1536), "1536B");
        assert_eq!(parse_size(&format_size(1536)), Ok(1536));
        assert_eq!(format_size(3072), "3K");
        assert_eq!(format_size(0), "0");
    }

    #[test]
    fn networks() {
        let n = Net::parse("192.0.2.0/24").unwrap().unwrap();
        assert!(n.contains("192.0.2.77".parse().unwrap()));
        assert!(!n.contains("192.0.3.1".parse().unwrap()));
        assert!(n.contains("::ffff:192.0.2.9".parse().unwrap()));
        assert!(!n.contains("2001:db8::1".parse().unwrap()));
        let v6 = Net::parse("2001:DB8::/32").unwrap().unwrap();
        assert_eq!(v6.to_string(), "2001:db8::/32");
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        let all = Net::parse("0.0.0.0/0").unwrap().unwrap();
        assert!(all.contains("203.0.113.5".parse().unwrap()));
        assert_eq!(Net::parse("unknown"), Ok(None));
        assert_eq!(Net::parse("192.0.2.0/33").unwrap_err().at, 10);
        assert_eq!(Net::parse("192.0.2.1/24").unwrap_err().at, 0);
        assert_eq!(Net::parse("foo/24").unwrap_err().at, 0);
        assert_eq!(
            Net::parse("192.0.2.1").unwrap().unwrap().to_string(),
            "192.0.2.1"
        );
    }

    #[test]
    fn globs() {
        assert!(is_glob("*@example.com"));
        assert!(is_glob("a?c"));
        assert!(is_glob(r"a\*c"));
        assert!(!is_glob("plain"));
        let re = |g: &str, fold| regex::bytes::Regex::new(&glob_to_regex(g, fold)).unwrap();
        assert!(re("*@example.com", None).is_match(b"bob@example.com"));
        assert!(!re("*@example.com", None).is_match(b"bob@example.com.evil"));
        assert!(re("a?c", None).is_match("aéc".as_bytes()));
        assert!(re("a?c", None).is_match(b"a\xffc"));
        assert!(re("*", None).is_match(b"\xff\xfe"));
        assert!(re(r"a\*c", None).is_match(b"a*c"));
        assert!(!re(r"a\*c", None).is_match(b"abc"));
        assert!(re("a.c", None).is_match(b"a.c"));
        assert!(!re("a.c", None).is_match(b"abc"));
        let g = "bob@*.Example.com";
        let r = re(g, glob_domain_start(g));
        assert!(r.is_match(b"bob@mx.EXAMPLE.COM"));
        assert!(!r.is_match(b"BOB@mx.example.com"));
    }
}
