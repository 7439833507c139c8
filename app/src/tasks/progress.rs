//! How far a transfer is, in numbers and in words: percent done, a smoothed
//! speed, and "4 MB of 100 MB, 12.3 MB/s" (in the byte style of
//! [`shared::format`]).

use shared::format::{format_bytes, format_speed};

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
    /// An upload going on after an interruption: the file bytes already
    /// stored before it.
    pub resumed_from: Option<u64>,
}

impl Progress {
    /// Whole percent done.
    pub fn percent(&self) -> u8 {
        percent(self.done, self.total)
    }

    /// "4.0 MB of 100 MB, 12.3 MB/s" (without the speed until it is known),
    /// after "Continuing from 2.0 MB of 100 MB: " for an upload going on.
    pub fn describe(&self) -> String {
        let sizes = format!(
            "{} of {}",
            format_bytes(self.done),
            format_bytes(self.total)
        );
        let sizes = match self.bytes_per_second {
            Some(speed) => format!("{sizes}, {}", format_speed(speed)),
            None => sizes,
        };
        match self.resumed_from {
            Some(from) => format!(
                "Continuing from {} of {}: {sizes}",
                format_bytes(from),
                format_bytes(self.total)
            ),
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

/// Lets a transfer report its progress at most every [`Pacer::EVERY_MS`]
/// (and always at the end): redrawing the progress row for every 1 MiB chunk
/// cost the page more time than the chunk's cipher.
#[derive(Clone, Debug, Default)]
pub struct Pacer {
    last: Option<f64>,
}

impl Pacer {
    /// The shortest time between two reports.
    pub const EVERY_MS: f64 = 100.0;

    /// A pacer that lets the first report through.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a report of `done` of `total` at `now_ms` should be shown.
    pub fn due(&mut self, now_ms: f64, done: u64, total: u64) -> bool {
        let due = done >= total
            || self
                .last
                .is_none_or(|last| now_ms - last >= Self::EVERY_MS || now_ms < last);
        if due {
            self.last = Some(now_ms);
        }
        due
    }
}
