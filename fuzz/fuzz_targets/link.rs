//! Feeds arbitrary next_page links to the origin resolver: whatever it accepts must stay on
//! the configured origin.
#![no_main]
libfuzzer_sys::fuzz_target!(|link: &str| {
    if let Some(url) = vault_parts::fuzzing::resolve_link("https://v.example:8443", link) {
        assert!(url.starts_with("https://v.example:8443/"), "{link:?} -> {url}");
    }
});
