//! SQLite's memory comes from the program's allocator (mimalloc in the `hanlin` binary) instead of
//! the C library's malloc. A bulk import makes SQLite's writer thread allocate and free millions of
//! small blocks (statement journals, record buffers, JSON values); glibc's free-list upkeep took a
//! sixth of that thread's time (bench/RESULTS.md).

use libsqlite3_sys as ffi;
use std::alloc::{Layout, alloc, dealloc, realloc};
use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;

/// Each block starts with its size (SQLite asks for it back); 16 keeps the data 16-byte aligned.
const HEADER: usize = 16;
const ALIGN: usize = 16;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
}

/// Writes the size header at `base` and returns the data pointer after it.
unsafe fn finish(base: *mut u8, size: usize) -> *mut c_void {
    if base.is_null() {
        return null_mut();
    }
    // SAFETY: `base` is a fresh block of at least HEADER + size bytes, aligned to 16.
    unsafe {
        base.cast::<usize>().write(size);
        base.add(HEADER).cast()
    }
}

/// The block's start and its size, from a data pointer this module handed out.
unsafe fn block(p: *mut c_void) -> (*mut u8, usize) {
    // SAFETY: `p` came from `finish`, so HEADER bytes before it hold the size.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        (base, base.cast::<usize>().read())
    }
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    let Some(l) = usize::try_from(n).ok().and_then(layout) else { return null_mut() };
    // SAFETY: the layout has a non-zero size (HEADER > 0).
    unsafe { finish(alloc(l), l.size() - HEADER) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: SQLite frees only pointers from x_malloc / x_realloc, with the layout they were made with.
    unsafe {
        let (base, size) = block(p);
        dealloc(base, Layout::from_size_align_unchecked(size + HEADER, ALIGN));
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        // SAFETY: a realloc of nothing is a malloc.
        return unsafe { x_malloc(n) };
    }
    let Some(new) = usize::try_from(n).ok().and_then(layout) else { return null_mut() };
    // SAFETY: `p` is ours (see x_free); the new size is non-zero and does not overflow.
    unsafe {
        let (base, size) = block(p);
        finish(realloc(base, Layout::from_size_align_unchecked(size + HEADER, ALIGN), new.size()), new.size() - HEADER)
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: `p` is ours (see x_free).
    unsafe { block(p).1 as c_int }
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    (n.max(0) + 7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Hands SQLite the allocator. Must run before SQLite initialises (before the first connection
/// opens); later calls, and a SQLite that some other code already started, keep the C library's.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC copies the struct; the functions above follow SQLite's contract.
        let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods) };
        if rc != ffi::SQLITE_OK {
            tracing::debug!(rc, "SQLite was already initialised; it keeps the C library's allocator");
        }
    });
}
