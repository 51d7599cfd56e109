//! What menus, shortcuts and dialogs ask the editor to do beyond changing the document: the
//! frame loop carries them out in `EditorApp::run_command`.

use std::path::PathBuf;

use layerdecomp::io::ExportFormat;
use layerdecomp::raster::Rect;

use super::history::EditorDocument;

/// Why a path is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathPurpose {
    Open,
    SaveProject,
    Export(ExportFormat),
}

impl PathPurpose {
    pub fn title(self) -> &'static str {
        match self {
            PathPurpose::Open => "Open file",
            PathPurpose::SaveProject => "Save project as",
            PathPurpose::Export(_) => "Export to",
        }
    }
}

/// One request to the editor.
pub enum Command {
    /// Ask for a path by typing it.
    PromptPath(PathPurpose),
    /// Open the Export window.
    ShowExport,
    /// Ask for a path with the system dialog (or the typed-path prompt without one).
    AskPath(PathPurpose),
    /// A path was given for `purpose`.
    UsePath(PathPurpose, PathBuf),
    /// The user gave no path (a prompt or dialog was cancelled).
    NoPath,
    /// Open a file in the background.
    Open(PathBuf),
    /// Show a document that was opened (the user agreed to drop unsaved changes).
    ShowOpened(PathBuf, Box<EditorDocument>),
    /// Save the project (to its file, or ask where).
    Save {
        save_as: bool,
    },
    /// Export the document to a path.
    Export(PathBuf, ExportFormat),
    Undo,
    Redo,
    ClearMasks,
    Decompose,
    /// Propose the object's brush from the saliency network, over the whole photo or inside a
    /// box (canvas pixels).
    SelectSubject(Option<Rect>),
    /// Stop the running engine job (decomposition or selection).
    CancelJob,
    /// Restore the recovery file's document.
    Recover(PathBuf),
    DiscardRecovery,
    /// Save, then close the window.
    SaveAndClose,
    /// Close the window without saving.
    DiscardAndClose,
    FitView,
    ActualPixels,
}
