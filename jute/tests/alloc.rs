//! A hostile length or count must not make the decoder allocate more than
//! the remaining input. A counting global allocator records the largest
//! single allocation made by the current thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use jute::codec::{read_buffer, read_ustring, read_vector};
use jute::data::{Stat, ACL};
use jute::from_bytes;
use jute::multi::MultiRequest;
use jute::proto::{GetChildrenResponse, SetWatches2};

struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.with(|l| l.set(l.get().max(layout.size())));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.with(|l| l.set(l.get().max(new_size)));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns the largest allocation it made on this thread.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    f();
    LARGEST.with(|l| l.get())
}

#[test]
fn length_prefixes_do_not_drive_allocation() {
    // A maximal count or length, then filler on which the first element
    // already fails (0x7f7f7f7f is itself a huge length), so any large
    // allocation could only come from the prefix.
    let mut input_bytes = vec![0x7f, 0xff, 0xff, 0xff];
    input_bytes.extend_from_slice(&[0x7f; 60]);
    let remaining = input_bytes.len() - 4;

    let largest = largest_allocation(|| {
        let mut input = &input_bytes[..];
        assert!(read_ustring(&mut input, "s").is_err());
        let mut input = &input_bytes[..];
        assert!(read_buffer(&mut input, "b").is_err());
        let mut input = &input_bytes[..];
        assert!(read_vector::<Stat>(&mut input, "v").is_err());
        let mut input = &input_bytes[..];
        assert!(read_vector::<ACL>(&mut input, "v").is_err());
        let mut input = &input_bytes[..];
        assert!(read_vector::<String>(&mut input, "v").is_err());
    });
    assert!(
        largest <= remaining,
        "allocated {largest} bytes for {remaining} bytes of input"
    );

    // Whole records with hostile counts.
    let largest = largest_allocation(|| {
        assert!(from_bytes::<GetChildrenResponse>(&input_bytes).is_err());
        assert!(from_bytes::<SetWatches2>(&input_bytes).is_err());
    });
    assert!(largest <= input_bytes.len(), "allocated {largest} bytes");

    // A multi whose create op announces a huge path.
    let mut multi = vec![0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff];
    multi.extend_from_slice(&input_bytes);
    let largest = largest_allocation(|| {
        assert!(from_bytes::<MultiRequest>(&multi).is_err());
    });
    assert!(largest <= multi.len(), "allocated {largest} bytes");
}
