//! Decomposition on a worker thread: the UI sends the job and polls a channel each frame; the
//! worker reports progress (and asks egui to repaint) and finally its result. A panic in the
//! engine is caught and becomes an error message; the document is never touched by the worker.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use layerdecomp::document::PremulImage;
use layerdecomp::engine::Stages;
use layerdecomp::engine::{
    decompose_with, remove_shadow, select_subject, CancelToken, DecomposeRequest, Decomposition, EngineError, Progress,
    Quality, ShadowRemoval,
};
use layerdecomp::raster::{Mask, Rect};

/// What the engine is asked to do, owned so it can cross to the worker thread. With an empty
/// object mask and an effect hint, the hint is a shadow to take out on its own.
pub struct JobInput {
    pub image: Arc<PremulImage>,
    pub object_mask: layerdecomp::raster::Mask,
    pub effect_hint: Option<layerdecomp::raster::Mask>,
    pub protect: Option<layerdecomp::raster::Mask>,
    pub quality: Quality,
    pub stages: Arc<Stages>,
}

/// What a finished job gives.
pub enum JobResult {
    /// An object (and its effects) peeled off.
    Decomposed(Decomposition),
    /// A brushed shadow taken out on its own.
    ShadowRemoved(ShadowRemoval),
}

pub enum JobEvent {
    Progress(Progress),
    Finished(Result<JobResult, String>, Duration),
}

/// A running decomposition.
pub struct DecomposeJob {
    rx: Receiver<JobEvent>,
    cancel: CancelToken,
    pub started: Instant,
    pub progress: Option<Progress>,
    pub cancelling: bool,
}

impl DecomposeJob {
    /// Start the engine on its own thread. `repaint` is called after every message so the UI
    /// wakes up to show it.
    pub fn start(input: JobInput, repaint: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, rx) = channel();
        let cancel = CancelToken::new();
        let token = cancel.clone();
        let started = Instant::now();
        let spawned = std::thread::Builder::new().name("decompose".into()).spawn(move || {
            lower_priority();
            // At most ~4 progress updates a second (and every stage change): each one makes the UI
            // draw a frame, and frames cost the engine CPU on a small machine.
            let last = std::sync::Mutex::new((tx.clone(), None::<(Instant, layerdecomp::engine::Stage)>));
            let on_progress = |p: Progress| {
                let Ok(mut guard) = last.lock() else { return };
                let due =
                    guard.1.is_none_or(|(t, stage)| stage != p.stage || t.elapsed() >= Duration::from_millis(250));
                if due {
                    let _ = guard.0.send(JobEvent::Progress(p));
                    guard.1 = Some((Instant::now(), p.stage));
                    repaint();
                }
            };
            let result = catch_unwind(AssertUnwindSafe(|| match (&input.effect_hint, input.object_mask.is_empty()) {
                (Some(hint), true) => {
                    let shadow = input.protect.as_ref().map_or_else(|| hint.clone(), |p| hint.minus(p));
                    remove_shadow(&input.stages, &input.image, &shadow, &token).map(JobResult::ShadowRemoved)
                }
                _ => decompose_job(input, token, &on_progress).map(JobResult::Decomposed),
            }));
            let result = match result {
                Ok(Ok(d)) => Ok(d),
                Ok(Err(EngineError::Cancelled)) => Err("Cancelled".to_string()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(panic) => Err(crash_message(panic.as_ref())),
            };
            let _ = tx.send(JobEvent::Finished(result, started.elapsed()));
            repaint();
        });
        if let Err(e) = spawned {
            // No thread: report at once through the same channel.
            let (tx2, rx2) = channel();
            let _ = tx2.send(JobEvent::Finished(Err(format!("cannot start the engine thread: {e}")), Duration::ZERO));
            return Self { rx: rx2, cancel, started, progress: None, cancelling: false };
        }
        Self { rx, cancel, started, progress: None, cancelling: false }
    }

    pub fn cancel(&mut self) {
        self.cancelling = true;
        self.cancel.cancel();
    }

    /// Take the worker's messages; returns the result once it has finished.
    pub fn poll(&mut self) -> Option<(Result<JobResult, String>, Duration)> {
        loop {
            match self.rx.try_recv() {
                Ok(JobEvent::Progress(p)) => self.progress = Some(p),
                Ok(JobEvent::Finished(r, t)) => return Some((r, t)),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    return Some((Err("the engine thread stopped unexpectedly".into()), self.started.elapsed()))
                }
            }
        }
    }
}

/// The decomposition a job asks for, reporting to `on_progress`.
fn decompose_job(
    input: JobInput,
    cancel: CancelToken,
    on_progress: &(dyn Fn(Progress) + Sync),
) -> Result<Decomposition, EngineError> {
    let mut req = DecomposeRequest::new(input.object_mask);
    req.effect_hint = input.effect_hint;
    req.protect = input.protect;
    req.quality = input.quality;
    req.cancel = cancel;
    req.progress = Some(on_progress);
    // Every core: the engine's threads run at a lower priority (`lower_priority`), so the UI's
    // thread still gets the CPU the moment it has a frame to draw, and between frames (a few a
    // second while the engine works) the engine has the whole machine.
    req.threads = std::thread::available_parallelism().ok().map(|n| n.get());
    decompose_with(&input.stages, &input.image, &req)
}

/// What an engine panic becomes for the user.
fn crash_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the engine crashed ({what}); your document is unchanged")
}

/// "Select subject" on a thread: the saliency network over the photo, its subject as a brush.
/// The network's pass cannot be interrupted; a cancelled job's answer is dropped.
pub struct SelectJob {
    rx: Receiver<Result<Mask, String>>,
    pub started: Instant,
}

impl SelectJob {
    pub fn start(image: Arc<PremulImage>, area: Option<Rect>, repaint: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, rx) = channel();
        let started = Instant::now();
        let spawned = std::thread::Builder::new().name("select subject".into()).spawn({
            let tx = tx.clone();
            move || {
                lower_priority();
                let result = catch_unwind(AssertUnwindSafe(|| select_subject(&image, area)));
                let _ = tx.send(match result {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(panic) => Err(crash_message(panic.as_ref())),
                });
                repaint();
            }
        });
        if let Err(e) = spawned {
            let _ = tx.send(Err(format!("cannot start the engine thread: {e}")));
        }
        Self { rx, started }
    }

    /// The subject's brush (or why there is none) once the network has answered.
    pub fn poll(&mut self) -> Option<Result<Mask, String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("the engine thread stopped unexpectedly".into())),
        }
    }
}

/// Let the UI thread win the CPU: the engine thread (and the pool threads it starts, which
/// inherit it) runs at a lower scheduling priority (nice 10). On Linux `setpriority` applies to
/// the calling thread only. Idle scheduling would starve the engine behind the renderer's
/// threads without making frames any faster.
fn lower_priority() {
    #[cfg(unix)]
    // SAFETY: setpriority only reads its integer arguments; failure is harmless (reported below).
    unsafe {
        if libc::setpriority(libc::PRIO_PROCESS, 0, 10) != 0 {
            log::debug!("could not lower the engine thread's priority");
        }
    }
}
