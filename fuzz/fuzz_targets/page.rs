//! Feeds arbitrary bytes to the page parser: it must return, never panic or hang.
#![no_main]
libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    let _ = vault_parts::page::parse(body);
});
