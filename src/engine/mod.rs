//! The decomposition engine: headless and UI-free. It runs on any thread and reports progress
//! through callbacks; the editor and the CLI call the very same code.

pub mod device;

pub use device::pick_device;
