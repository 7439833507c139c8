//! Byte counts and speeds as people read them, one style for the app and the
//! server: "930 bytes", "1.5 KB", "12.3 MB", "2 GB", "12.3 MB/s". Units are
//! powers of 1024, named as most file managers name them.

/// The units after bytes, each 1024 times the one before.
const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];

/// A byte count: "0 bytes", "1 byte", "930 bytes", "1.5 KB", "12.3 MB",
/// "2 GB". One decimal below 100 of a unit, none when it would read ".0".
pub fn format_bytes(bytes: u64) -> String {
    if bytes == 1 {
        return "1 byte".to_owned();
    }
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = if value >= 100.0 || value.fract() < 0.05 || value.fract() > 0.95 && value >= 99.5 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    // 1023.96 KB rounds to "1024": say "1 MB" instead.
    if text == "1024" && unit + 1 < UNITS.len() {
        return format!("1 {}", UNITS[unit + 1]);
    }
    format!("{text} {}", UNITS[unit])
}

/// A transfer speed from bytes per second: "12.3 MB/s", "250 MB/s", or
/// "20 KB/s" below a tenth of a megabyte; "0 MB/s" for nothing measurable.
pub fn format_speed(bytes_per_second: f64) -> String {
    if !bytes_per_second.is_finite() || bytes_per_second <= 0.0 {
        return "0 MB/s".to_owned();
    }
    let mb = bytes_per_second / (1024.0 * 1024.0);
    if mb >= 100.0 {
        format!("{mb:.0} MB/s")
    } else if mb >= 0.1 {
        format!("{mb:.1} MB/s")
    } else {
        format!("{:.0} KB/s", (bytes_per_second / 1024.0).max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(format_bytes(0), "0 bytes");
        assert_eq!(format_bytes(1), "1 byte");
        assert_eq!(format_bytes(930), "930 bytes");
        assert_eq!(format_bytes(1023), "1023 bytes");
        assert_eq!(format_bytes(1024), "1 KB");
        assert_eq!(format_bytes(1536), "1.5 KB");
        assert_eq!(format_bytes(2_516_582), "2.4 MB");
        assert_eq!(format_bytes(100 * 1024 * 1024), "100 MB");
        assert_eq!(format_bytes(12_900_000), "12.3 MB");
        assert_eq!(format_bytes(300 << 20), "300 MB");
        assert_eq!(format_bytes(2 << 30), "2 GB");
        assert_eq!(format_bytes(10 << 30), "10 GB");
    }

    #[test]
    fn rounding_never_reads_1024_of_a_unit() {
        assert_eq!(format_bytes(1024 * 1024 - 1), "1 MB");
        assert_eq!(format_bytes((1 << 30) - 1), "1 GB");
        // 99.97 KB reads as a whole number, not "100.0".
        assert_eq!(format_bytes(102_370), "100 KB");
    }

    #[test]
    fn the_largest_unit_keeps_counting() {
        assert_eq!(format_bytes(u64::MAX), "16384 PB");
    }

    #[test]
    fn speeds_read_naturally() {
        assert_eq!(format_speed(0.0), "0 MB/s");
        assert_eq!(format_speed(-5.0), "0 MB/s");
        assert_eq!(format_speed(f64::NAN), "0 MB/s");
        assert_eq!(format_speed(f64::INFINITY), "0 MB/s");
        assert_eq!(format_speed(12.34 * 1024.0 * 1024.0), "12.3 MB/s");
        assert_eq!(format_speed(250.0 * 1024.0 * 1024.0), "250 MB/s");
        assert_eq!(format_speed(20.0 * 1024.0), "20 KB/s");
        // Less than a kilobyte a second still reads as moving.
        assert_eq!(format_speed(10.0), "1 KB/s");
    }
}
