#![no_main]
//! What a visitor types into the search box (and the snippet scan over stored text).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hoclieu::fuzzing::search_query(data);
});
