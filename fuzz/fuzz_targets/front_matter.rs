#![no_main]
//! Material files: front matter and Markdown, as read from a library folder or a package.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hoclieu::fuzzing::material_file(data);
});
