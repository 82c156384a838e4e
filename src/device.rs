//! Compute-device discovery for tch (libtorch).
//!
//! rustc links with `--as-needed`, so `libtorch_cuda.so` is never loaded by the dynamic linker even when it
//! ships beside `libtorch_cpu.so`, and CUDA then looks absent. [`load_cuda_backend`] dlopens it at start-up
//! (`RTLD_NOW | RTLD_GLOBAL`) so its kernels register with the dispatcher; on machines without a GPU the
//! library is missing or fails to initialise and the call reports that without failing.

use std::ffi::CString;

/// Result of trying to load libtorch's CUDA backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaBackend {
    /// `libtorch_cuda.so` was loaded into the process.
    Loaded,
    /// The library could not be loaded (message from `dlerror`); the process runs on CPU only.
    Unavailable(String),
}

/// Dlopen `libtorch_cuda.so` once, so that `tch::Cuda::is_available()` can see a GPU where one exists.
pub fn load_cuda_backend() -> CudaBackend {
    static RESULT: std::sync::OnceLock<CudaBackend> = std::sync::OnceLock::new();
    RESULT
        .get_or_init(|| {
            let name = CString::new("libtorch_cuda.so").expect("static name has no NUL");
            // SAFETY: dlopen with a valid NUL-terminated name; the handle is intentionally kept open for the
            // life of the process.
            let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            if handle.is_null() {
                // SAFETY: dlerror returns a thread-local C string or NULL.
                let err = unsafe { libc::dlerror() };
                let msg = if err.is_null() {
                    "unknown dlopen error".to_string()
                } else {
                    // SAFETY: non-null pointer from dlerror points at a NUL-terminated string.
                    unsafe { std::ffi::CStr::from_ptr(err) }.to_string_lossy().into_owned()
                };
                CudaBackend::Unavailable(msg)
            } else {
                CudaBackend::Loaded
            }
        })
        .clone()
}

/// The best tch device: CUDA device 0 when the CUDA backend loaded and a GPU is visible, else the CPU.
pub fn best_device() -> tch::Device {
    load_cuda_backend();
    if tch::Cuda::is_available() {
        tch::Device::Cuda(0)
    } else {
        tch::Device::Cpu
    }
}
