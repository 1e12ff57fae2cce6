//! Every decoder of the election and quorum ports (`ferrokeeper::quorum::wire`):
//! the initial message, election frames, notifications, config text, quorum
//! packets (at a small and at the default jute limit), the hand-framed
//! payloads and the SNAP stream scanner. The checks live in
//! `quorum::wire::fuzzing::exercise`, which a unit test also runs on stable
//! with seeded garbage and mutations; see there for the invariants and the
//! input layout (first byte selects the decoder).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferrokeeper::quorum::wire::fuzzing::exercise(data);
});
