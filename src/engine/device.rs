//! The one place that chooses where tensor work runs.

use std::sync::OnceLock;

use candle_core::Device;

/// The best available device: GPU 0 when this build has CUDA or Metal support and a GPU answers,
/// else the CPU. Chosen once per process (the first call logs which).
pub fn pick_device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let device = gpu().unwrap_or(Device::Cpu);
            log::info!("engine device: {}", describe_device(&device));
            device
        })
        .clone()
}

fn gpu() -> Option<Device> {
    let answer = if candle_core::utils::cuda_is_available() {
        Device::new_cuda(0)
    } else if candle_core::utils::metal_is_available() {
        Device::new_metal(0)
    } else {
        return None;
    };
    answer.map_err(|e| log::warn!("the GPU did not answer ({e}); the engine runs on the CPU")).ok()
}

/// A short human name for a device, for logs and the status bar.
pub fn describe_device(device: &Device) -> &'static str {
    match device {
        Device::Cpu => "CPU",
        Device::Cuda(_) => "CUDA GPU",
        Device::Metal(_) => "Metal GPU",
    }
}
