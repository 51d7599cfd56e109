//! What the CPU convolutions' bands of work share (`conv`, `winograd`): each worker's scratch
//! buffer, and the output they all write, each band its own elements.

thread_local! {
    /// Each worker's scratch, kept between layers (a fresh one per band would be mapped and
    /// faulted in again every time). A band takes it whole and calls nothing that takes it.
    pub static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The output the bands share, written through a raw pointer: each band writes elements no
/// other band writes.
#[derive(Clone, Copy)]
pub struct SharedOut(*mut f32);

// SAFETY: the bands write disjoint elements (see `run`'s contract).
unsafe impl Send for SharedOut {}
// SAFETY: as above.
unsafe impl Sync for SharedOut {}

impl SharedOut {
    pub fn new(out: &mut Vec<f32>) -> Self {
        Self(out.as_mut_ptr())
    }

    /// Elements `start..start + len`.
    ///
    /// # Safety
    /// They lie inside the output's allocation, the output outlives the slice, and no other
    /// band touches them meanwhile.
    pub unsafe fn run<'a>(self, start: usize, len: usize) -> &'a mut [f32] {
        // SAFETY: as the caller promises.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(start), len) }
    }
}
