#![no_main]
//! Packages and backups from a USB stick: tar structure, manifest, paths, sizes, checksums.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hoclieu::fuzzing::package(data);
});
