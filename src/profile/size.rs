//! Human sizes ("4 KiB", "16 GiB") in both directions, as profile files and messages write them.

/// Parses a size such as `4 KiB`, `4KiB`, `100 B`, `16 G` or `4 kB` into bytes. A bare number is
/// bytes. Units are binary (`kB` is Linux's spelling of KiB); `pages` is not accepted because a
/// profile's sizes must not depend on a page size that the same file may set. `None` when the
/// text is not a size or the value does not fit in 64 bits.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|i| (&s[..i], s[i..].trim_start()))
        .unwrap_or_else(|| split_glued(s));
    let (number, unit) = split;
    let value = parse_int(number)?;
    let scale: u64 = match unit {
        "" | "B" => 1,
        "K" | "KiB" | "kB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    value.checked_mul(scale)
}

/// Splits `4KiB` into `4` and `KiB`; hexadecimal numbers take no glued unit, since `0x1B` is a
/// number and not 1 byte.
fn split_glued(s: &str) -> (&str, &str) {
    if s.starts_with("0x") || s.starts_with("0X") {
        return (s, "");
    }
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Decimal, `0x` hexadecimal or `0b` binary, with `_` separators as in `.mem` source.
pub(crate) fn parse_int(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = s.strip_prefix("0b") {
        (b, 2)
    } else {
        (s, 10)
    };
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// Formats bytes with the largest binary unit that divides them exactly: `12 KiB`, `16 GiB`,
/// `1536 B`. Exactness matters more than brevity here: a help line that says "1.5 KiB" would
/// suggest a value the user cannot write.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    if bytes != 0 {
        for (shift, unit) in UNITS {
            if bytes.trailing_zeros() >= shift {
                return format!("{} {unit}", bytes >> shift);
            }
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_size("4 KiB"), Some(4096));
        assert_eq!(parse_size("4KiB"), Some(4096));
        assert_eq!(parse_size("4 K"), Some(4096));
        assert_eq!(parse_size("4 kB"), Some(4096));
        assert_eq!(parse_size("16 GiB"), Some(16 << 30));
        assert_eq!(parse_size("2 T"), Some(2 << 40));
        assert_eq!(parse_size("3 M"), Some(3 << 20));
        assert_eq!(parse_size("100 B"), Some(100));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1_024 B"), Some(1024));
        assert_eq!(parse_size("0x1000"), Some(4096));
        assert_eq!(parse_size(" 8 MiB "), Some(8 << 20));
    }

    #[test]
    fn rejects_non_sizes() {
        for s in [
            "", "KiB", "4 pages", "4 KB", "4 kiB", "four KiB", "-4 KiB", "4 KiB x", "4.5 KiB",
        ] {
            assert_eq!(parse_size(s), None, "{s:?}");
        }
        assert_eq!(parse_size("99999999999 TiB"), None);
    }

    #[test]
    fn formats_exactly() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(100), "100 B");
        assert_eq!(format_size(1536), "1536 B");
        assert_eq!(format_size(12 << 10), "12 KiB");
        assert_eq!(format_size(16 << 30), "16 GiB");
        assert_eq!(format_size(3 << 40), "3 TiB");
    }
}
