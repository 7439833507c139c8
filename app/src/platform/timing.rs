//! User Timing marks (`performance.measure`) around the slow steps of opening
//! the record, so a performance profile or a benchmark
//! (`end2end/bench/biglist.bench.ts`) can read where the time went with
//! `performance.getEntriesByType("measure")`. Only step names and durations:
//! nothing of the record. Does nothing where the browser has no `performance`.

/// A step being timed: its name, and whether its start mark was set.
pub struct Span {
    name: &'static str,
    started: bool,
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window().and_then(|w| w.performance())
}

/// Starts timing the step `name` (shown as `medvault: name`).
pub fn span(name: &'static str) -> Span {
    let started = performance()
        .map(|p| p.mark(&format!("medvault: {name}: start")).is_ok())
        .unwrap_or(false);
    Span { name, started }
}

impl Span {
    /// Ends the step: one `measure` entry from its start to now.
    pub fn end(self) {
        if !self.started {
            return;
        }
        if let Some(p) = performance() {
            let start = format!("medvault: {}: start", self.name);
            let _ = p.measure_with_start_mark(&format!("medvault: {}", self.name), &start);
            p.clear_marks_with_mark_name(&start);
        }
    }
}

/// Milliseconds since the page started (0 without `performance`).
pub fn now_ms() -> f64 {
    performance().map(|p| p.now()).unwrap_or(0.0)
}
