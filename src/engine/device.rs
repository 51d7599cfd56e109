//! The one place that chooses where tensor work runs.

use candle_core::Device;

/// The best available device: CUDA GPU 0 when this build has CUDA support and a GPU answers,
/// else the CPU. Logs which one was chosen.
pub fn pick_device() -> Device {
    let device = match Device::cuda_if_available(0) {
        Ok(d) => d,
        Err(e) => {
            log::warn!("CUDA device unavailable ({e}); using the CPU");
            Device::Cpu
        }
    };
    log::info!("engine device: {}", describe_device(&device));
    device
}

/// A short human name for a device, for logs and the status bar.
pub fn describe_device(device: &Device) -> &'static str {
    match device {
        Device::Cpu => "CPU",
        Device::Cuda(_) => "CUDA GPU",
        Device::Metal(_) => "Metal GPU",
    }
}
