//! Generates include/vault_parts.h with cbindgen. The header is committed; `make test` fails
//! when the committed copy differs from what this produces (see Makefile: check-header).

use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    // A hand edit of the committed header regenerates it, so check-header notices.
    println!("cargo:rerun-if-changed=include/vault_parts.h");

    // The C test harness (tests/) builds C programs for the same target with the cc crate.
    for var in ["TARGET", "HOST"] {
        println!("cargo:rustc-env=VAULT_PARTS_BUILD_{var}={}", env::var(var).unwrap());
    }

    // The SONAME carries the major version: a new major is an ABI break (README, "Versions").
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvault_parts.so.{major}");
    }

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let header = crate_dir.join("include").join("vault_parts.h");

    // Version macros come from Cargo.toml's version, never typed twice.
    let version = format!(
        "\n/** libvault_parts version this header belongs to (from Cargo.toml). */\n\
         #define VAULT_PARTS_VERSION_MAJOR {}\n\
         #define VAULT_PARTS_VERSION_MINOR {}\n\
         #define VAULT_PARTS_VERSION_PATCH {}\n\
         /** The same version as a string, \"MAJOR.MINOR.PATCH\"; vault_parts_version() returns the library's. */\n\
         #define VAULT_PARTS_VERSION_STRING \"{}\"",
        env::var("CARGO_PKG_VERSION_MAJOR").unwrap(),
        env::var("CARGO_PKG_VERSION_MINOR").unwrap(),
        env::var("CARGO_PKG_VERSION_PATCH").unwrap(),
        env::var("CARGO_PKG_VERSION").unwrap(),
    );

    match cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).with_after_include(version).generate() {
        // write_to_file leaves the file untouched when the content is the same.
        Ok(bindings) => {
            bindings.write_to_file(&header);
        }
        Err(e) => panic!("cbindgen failed to generate {}: {e}", header.display()),
    }
}
