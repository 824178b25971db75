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
        if unit > 1 && bytes >= unit && bytes % unit == 0 {
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

/// A byte count that loses nothing: `132 KiB` where a unit divides it, else `4097 B`. For
/// values the user prints; messages use the rounder [`size`].
pub fn size_exact(bytes: u64) -> String {
    for (name, unit) in [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ] {
        if bytes >= unit && bytes % unit == 0 {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} B")
}

/// `0x4052a0`.
pub fn addr(a: u64) -> String {
    format!("{a:#x}")
}

/// A count with its noun, pluralised: `1 page`, `3 pages`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_a_person_wrote_them() {
        assert_eq!(super::size(132 * 1024), "132 KiB");
        assert_eq!(super::size(0x40d20), "259 KiB");
        assert_eq!(super::size(1536 * 1024), "1536 KiB");
        assert_eq!(super::size(1536 * 1024 + 1), "1.5 MiB");
        assert_eq!(super::size(4097), "4 KiB + 1 B");
        assert_eq!(super::size_exact(4097), "4097 B");
        assert_eq!(super::size_exact(8192), "8 KiB");
        assert_eq!(super::size(40), "40 B");
        assert_eq!(super::size(0), "0 B");
        assert_eq!(super::size(16 << 30), "16 GiB");
        assert_eq!(super::size((100 << 30) + 4096), "100 GiB + 4 KiB");
        assert_eq!(super::size(65540 * 1024), "64 MiB + 4 KiB");
        assert_eq!(super::size(9999 * 1024), "9999 KiB");
    }
}
