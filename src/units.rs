//! How sizes and addresses are written for people: `132 KiB`, `0x4052a0`.

/// A byte count with a binary unit: exact where it divides (`132 KiB`, `1 MiB`), otherwise the
/// whole number of the largest unit it reaches, with one decimal below ten (`259 KiB`,
/// `1.5 MiB`).
pub fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    for (name, unit) in UNITS {
        if unit > 1 && bytes >= unit && bytes.is_multiple_of(unit) {
            let n = bytes / unit;
            if n < 10_000 {
                return format!("{n} {name}");
            }
            // `104857604 KiB` is exact but unreadable: the largest unit's whole part, then
            // the rest (`100 GiB + 4 KiB`).
            let (big_name, big) = UNITS
                .iter()
                .copied()
                .find(|&(_, u)| bytes >= u)
                .unwrap_or((name, unit));
            return format!("{} {big_name} + {}", bytes / big, size(bytes % big));
        }
    }
    for (name, unit) in UNITS {
        if bytes >= unit && unit > 1 {
            let whole = bytes / unit;
            if whole >= 10 {
                return format!("{whole} {name}");
            }
            let tenths = (bytes % unit) * 10 / unit;
            if tenths == 0 {
                // `4.0 KiB` for 4097 bytes would hide the odd bytes: say them.
                return format!("{whole} {name} + {}", size(bytes % unit));
            }
            return format!("{whole}.{tenths} {name}");
        }
    }
    format!("{bytes} B")
}

/// The length of a mapping: as [`size`] writes it where a KiB divides it, else that and the
/// bytes left over (`19 KiB + 768 B` on a machine of 256-byte pages), never rounded: a length
/// the program asked for is read back exactly.
pub fn size_len(bytes: u64) -> String {
    let rest = bytes % 1024;
    if rest == 0 || bytes < 1024 {
        size(bytes)
    } else {
        format!("{} + {rest} B", size(bytes - rest))
    }
}

/// A byte count that loses nothing: `132 KiB` where a unit divides it, else `4097 B`. For
/// values the user prints; messages use the rounder [`size`].
pub fn size_exact(bytes: u64) -> String {
    for (name, unit) in [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ] {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} B")
}

/// `0x4052a0`.
pub fn addr(a: u64) -> String {
    format!("{a:#x}")
}

/// The number base a machine's addresses are printed in: hex like gdb and glibc, or decimal
/// like OSTEP's exercises (`heap 100 B at 1000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Radix {
    #[default]
    Hex,
    Decimal,
}

impl Radix {
    /// An address in this base: `0x3e8` or `1000`.
    pub fn addr(self, a: u64) -> String {
        match self {
            Radix::Hex => addr(a),
            Radix::Decimal => a.to_string(),
        }
    }
}

/// A count with its noun, pluralised: `1 page`, `3 pages`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A time limit as written on the command line: a whole number and a unit, `ms`, `s`, `m` or
/// `h` (`500ms`, `10s`, `2m`); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    match parse_delay(text)? {
        d if d.is_zero() => Err(format!(
            "`{text}` is no time at all: give a time limit above zero"
        )),
        d => Ok(d),
    }
}

/// A delay, written as [`parse_duration`] reads a time limit, where `0s` is allowed: at once.
pub fn parse_delay(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let bad = || {
        format!("`{text}` is not a duration: write a whole number and a unit, such as `500ms`, `10s` or `2m`")
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let ms = match unit.trim() {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(bad()),
    }
    .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    Ok(std::time::Duration::from_millis(ms))
}

/// A duration the way [`parse_duration`] reads it: `500ms`, `10s`, `2m`, `1h`.
pub fn duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 || !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_and_print_alike() {
        for t in ["500ms", "10s", "2m", "1h", "90s", "1500ms"] {
            let d = super::parse_duration(t).unwrap();
            assert_eq!(super::duration(d), t);
        }
        assert_eq!(super::parse_duration("3").unwrap().as_secs(), 3);
        assert_eq!(super::parse_duration("2m").unwrap().as_secs(), 120);
        for bad in [
            "",
            "s",
            "10 parsecs",
            "-1s",
            "1.5s",
            "0s",
            "99999999999999999999h",
        ] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
        // A delay may be none; it is otherwise read as a time limit is.
        assert_eq!(super::parse_delay("0s"), Ok(std::time::Duration::ZERO));
        assert_eq!(super::parse_delay("0ms"), Ok(std::time::Duration::ZERO));
        assert_eq!(super::parse_delay("250ms").unwrap().as_millis(), 250);
        assert!(super::parse_delay("1.5s").is_err());
    }

    #[test]
    fn sizes_read_like_a_person_wrote_them() {
        assert_eq!(super::size(132 * 1024), "132 KiB");
        assert_eq!(super::size(0x40d20), "259 KiB");
        assert_eq!(super::size(1536 * 1024), "1536 KiB");
        assert_eq!(super::size(1536 * 1024 + 1), "1.5 MiB");
        assert_eq!(super::size(4097), "4 KiB + 1 B");
        assert_eq!(super::size_exact(4097), "4097 B");
        assert_eq!(super::size_len(20224), "19 KiB + 768 B");
        assert_eq!(super::size_len(64 << 10), "64 KiB");
        assert_eq!(super::size_len(768), "768 B");
        assert_eq!(super::size_len((100 << 30) + 4096), "100 GiB + 4 KiB");
        assert_eq!(super::size_exact(8192), "8 KiB");
        assert_eq!(super::size(40), "40 B");
        assert_eq!(super::size(0), "0 B");
        assert_eq!(super::size(16 << 30), "16 GiB");
        assert_eq!(super::size((100 << 30) + 4096), "100 GiB + 4 KiB");
        assert_eq!(super::size(65540 * 1024), "64 MiB + 4 KiB");
        assert_eq!(super::size(9999 * 1024), "9999 KiB");
    }
}
