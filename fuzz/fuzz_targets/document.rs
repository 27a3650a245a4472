#![no_main]
//! Documents staff drop in: PDF, Word (.docx) and LibreOffice (.odt), read as text.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hoclieu::fuzzing::document(data);
});
