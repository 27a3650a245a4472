//! Giving memory back to the system after a burst of work (loading a library of tens of
//! thousands of files): glibc keeps freed heap pages otherwise, and a small box shares its
//! RAM with the page cache that makes searches fast.

/// Returns the freed parts of the heap to the system (glibc only; nothing elsewhere).
#[allow(unsafe_code)]
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
