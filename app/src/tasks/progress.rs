//! How far a transfer is, in numbers and in words: percent done, a smoothed
//! speed, and "4 MB of 100 MB, 12.3 MB/s".

/// A byte count as people read it: "0 bytes", "1 byte", "930 bytes", "1.5 KB",
/// "12.3 MB", "2 GB". Units are powers of 1024 (as most file managers show them).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
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
    // 1023.96 KB rounds to "1024.0": say "1 MB" instead.
    if text == "1024" && unit + 1 < UNITS.len() {
        return format!("1 {}", UNITS[unit + 1]);
    }
    format!("{text} {}", UNITS[unit])
}

/// A transfer speed: "12.3 MB/s" (bytes per second in, 1024-based units out).
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

/// Whole percent of `done` out of `total`, rounded down so that 100 means
/// finished (an empty transfer is 100 at once).
pub fn percent(done: u64, total: u64) -> u8 {
    if total == 0 || done >= total {
        return 100;
    }
    ((u128::from(done) * 100 / u128::from(total)) as u8).min(99)
}

/// How far a transfer is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// File bytes done.
    pub done: u64,
    /// File bytes in all.
    pub total: u64,
    /// Smoothed speed in bytes per second, once there is a measurement.
    pub bytes_per_second: Option<f64>,
}

impl Progress {
    /// Whole percent done.
    pub fn percent(&self) -> u8 {
        percent(self.done, self.total)
    }

    /// "4.0 MB of 100 MB, 12.3 MB/s" (without the speed until it is known).
    pub fn describe(&self) -> String {
        let sizes = format!(
            "{} of {}",
            format_bytes(self.done),
            format_bytes(self.total)
        );
        match self.bytes_per_second {
            Some(speed) => format!("{sizes}, {}", format_speed(speed)),
            None => sizes,
        }
    }
}

/// Smooths the speed of a transfer measured at uneven moments: an exponential
/// moving average whose weight follows the time passed, so a burst of quick
/// samples does not make the number jump.
#[derive(Clone, Debug, Default)]
pub struct SpeedMeter {
    last: Option<(f64, u64)>,
    rate: Option<f64>,
}

impl SpeedMeter {
    /// How many milliseconds of history count most (the time constant).
    pub const WINDOW_MS: f64 = 3000.0;

    /// A meter with no samples yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `bytes` were done in all at `now_ms`; returns the smoothed
    /// bytes per second, once two samples lie apart in time.
    pub fn sample(&mut self, now_ms: f64, bytes: u64) -> Option<f64> {
        let Some((then, before)) = self.last else {
            self.last = Some((now_ms, bytes));
            return self.rate;
        };
        let elapsed = now_ms - then;
        if elapsed <= 0.0 || bytes < before {
            return self.rate;
        }
        let instant = (bytes - before) as f64 * 1000.0 / elapsed;
        let weight = 1.0 - (-elapsed / Self::WINDOW_MS).exp();
        self.rate = Some(match self.rate {
            Some(rate) => rate + weight * (instant - rate),
            None => instant,
        });
        self.last = Some((now_ms, bytes));
        self.rate
    }

    /// The current smoothed speed.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}
