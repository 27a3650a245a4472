#![no_main]
//! ZIM archives a centre copies in: opened, checked whole, their articles read.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hoclieu::fuzzing::zim(data);
});
