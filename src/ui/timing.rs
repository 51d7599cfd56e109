//! Frame times, recorded with `--debug-timing` (and every frame logged with
//! `LAYERDECOMP_FRAME_LOG`), to check that the window stays responsive while the engine works.

use std::time::{Duration, Instant};

/// Frame times, overall and while a decomposition runs.
#[derive(Default)]
pub struct FrameTiming {
    pub frames: u64,
    /// Longest CPU time of one frame (egui's `cpu_usage`: UI code, tessellation and painting).
    pub longest_frame: Duration,
    /// The same, counted only while a decomposition runs.
    pub longest_frame_while_busy: Duration,
    pub busy_frames: u64,
    /// Longest wall-clock gap between two frames while a decomposition runs.
    pub longest_gap_while_busy: Duration,
    last_frame: Option<Instant>,
}

/// Every frame is logged to stderr when this variable is set.
pub fn frame_log() -> bool {
    std::env::var_os("LAYERDECOMP_FRAME_LOG").is_some()
}

impl FrameTiming {
    /// Count a frame that took `cpu`; `busy` while a decomposition runs (or just finished).
    pub fn record(&mut self, cpu: Duration, busy: bool) {
        self.frames += 1;
        self.longest_frame = self.longest_frame.max(cpu);
        let now = Instant::now();
        if frame_log() {
            let gap = self.last_frame.map(|l| now - l).unwrap_or_default();
            eprintln!(
                "frame {} cpu {:.1} ms gap {:.1} ms busy {busy}",
                self.frames,
                cpu.as_secs_f64() * 1e3,
                gap.as_secs_f64() * 1e3
            );
        }
        if busy {
            self.busy_frames += 1;
            self.longest_frame_while_busy = self.longest_frame_while_busy.max(cpu);
            if let Some(last) = self.last_frame {
                self.longest_gap_while_busy = self.longest_gap_while_busy.max(now - last);
            }
        }
        self.last_frame = Some(now);
    }

    /// The line printed at exit.
    pub fn report(&self, last_decompose: Option<Duration>) -> String {
        format!(
            "frame timing: {} frames, longest {:.1} ms; while decomposing and 2 s after: {} frames, longest {:.1} ms, longest gap between frames {:.1} ms; last decomposition {:.2} s",
            self.frames,
            self.longest_frame.as_secs_f64() * 1e3,
            self.busy_frames,
            self.longest_frame_while_busy.as_secs_f64() * 1e3,
            self.longest_gap_while_busy.as_secs_f64() * 1e3,
            last_decompose.map(|d| d.as_secs_f64()).unwrap_or(0.0),
        )
    }
}
