#![no_main]
//! Range and conditional headers on an attachment request, and form bodies.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hoclieu::fuzzing::request_headers(data);
});
