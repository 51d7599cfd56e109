//! Work the editor hands to threads so the window never waits: opening, saving, exporting and
//! autosaving files, and the system's file dialogs. Each reports through a channel that the
//! frame loop polls.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use eframe::egui;
use layerdecomp::io::{ExportFormat, FileError};

use super::commands::PathPurpose;
use super::history::EditorDocument;

/// A finished file task.
pub enum TaskDone {
    Opened(PathBuf, Result<EditorDocument, FileError>),
    /// Saved as a project; the document generation that was saved.
    Saved(PathBuf, u64, Result<(), FileError>),
    Exported(PathBuf, Result<(), FileError>),
    Autosaved(Result<(), FileError>),
}

/// What a system file dialog answered.
pub enum DialogAnswer {
    Picked(PathPurpose, PathBuf),
    /// An answer too quick to be a dialog: there is none here.
    NoDialog(PathPurpose),
    Cancelled,
}

/// The running tasks and open system dialogs.
#[derive(Default)]
pub struct Tasks {
    running: Vec<Receiver<TaskDone>>,
    /// What for, when asked, and the answer's channel.
    dialogs: Vec<(PathPurpose, Instant, Receiver<Option<PathBuf>>)>,
}

/// Receive everything that has arrived, keeping the channels still waiting.
fn drain<T, U>(channels: &mut Vec<T>, mut recv: impl FnMut(&mut T) -> Result<U, TryRecvError>) -> Vec<U> {
    let mut done = Vec::new();
    channels.retain_mut(|c| match recv(c) {
        Ok(d) => {
            done.push(d);
            false
        }
        Err(TryRecvError::Empty) => true,
        Err(TryRecvError::Disconnected) => false,
    });
    done
}

impl Tasks {
    pub fn is_empty(&self) -> bool {
        self.running.is_empty() && self.dialogs.is_empty()
    }

    #[cfg(test)]
    /// File tasks are running (dialogs aside).
    pub fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Run `work` on a thread; the frame loop gets its result from `poll`.
    pub fn spawn(&mut self, work: impl FnOnce() -> TaskDone + Send + 'static, ctx: &egui::Context) {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(work());
            ctx.request_repaint();
        });
        self.running.push(rx);
    }

    pub fn poll(&mut self) -> Vec<TaskDone> {
        drain(&mut self.running, |rx| rx.try_recv())
    }

    /// Ask for a path with the system dialog, on a thread (the dialog must not freeze the UI).
    /// False when there is no system dialog to ask (the caller asks in the window).
    pub fn ask_path(&mut self, purpose: PathPurpose) -> bool {
        // The system dialog goes through the desktop portal on the session bus; without a bus
        // (a bare X server, a container) there is no dialog to wait for.
        if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            return false;
        }
        let (tx, rx) = channel();
        let dialog = match purpose {
            PathPurpose::Open => rfd::FileDialog::new()
                .add_filter("Images and projects", &["png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp", "gif", "ora"])
                .set_title("Open"),
            PathPurpose::SaveProject => rfd::FileDialog::new()
                .add_filter("layerdecomp project (OpenRaster)", &["ora"])
                .set_title("Save project"),
            PathPurpose::Export(format) if format.extension().is_empty() => rfd::FileDialog::new().set_title("Export"),
            PathPurpose::Export(format) => {
                rfd::FileDialog::new().set_title("Export").add_filter(format.label(), &[format.extension()])
            }
        };
        let pick_folder = purpose == PathPurpose::Export(ExportFormat::PngDir);
        std::thread::spawn(move || {
            let path = match purpose {
                PathPurpose::Open => dialog.pick_file(),
                _ if pick_folder => dialog.pick_folder(),
                _ => dialog.save_file(),
            };
            let _ = tx.send(path);
        });
        self.dialogs.push((purpose, Instant::now(), rx));
        true
    }

    pub fn poll_dialogs(&mut self) -> Vec<DialogAnswer> {
        let answered =
            drain(&mut self.dialogs, |(purpose, asked, rx)| rx.try_recv().map(|path| (*purpose, *asked, path)));
        answered
            .into_iter()
            .map(|(purpose, asked, path)| match path {
                Some(path) => DialogAnswer::Picked(purpose, path),
                None if asked.elapsed() < Duration::from_millis(300) => DialogAnswer::NoDialog(purpose),
                None => DialogAnswer::Cancelled,
            })
            .collect()
    }
}
