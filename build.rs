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
    let part = |name: &str| -> u32 {
        let value = env::var(format!("CARGO_PKG_VERSION_{name}")).unwrap();
        value.parse().unwrap_or_else(|_| panic!("version {name} {value:?} is not a number"))
    };
    let (major, minor, patch) = (part("MAJOR"), part("MINOR"), part("PATCH"));
    assert!(minor < 1000 && patch < 1000, "MINOR and PATCH must stay below 1000 for VAULT_PARTS_VERSION_NUMBER");
    let number = major * 1_000_000 + minor * 1000 + patch;
    // The library's own copy (vault_parts_version_number) comes from the same computation.
    println!("cargo:rustc-env=VAULT_PARTS_VERSION_NUMBER={number}");
    let version = format!(
        "\n/** libvault_parts version this header belongs to (from Cargo.toml). */\n\
         #define VAULT_PARTS_VERSION_MAJOR {major}\n\
         #define VAULT_PARTS_VERSION_MINOR {minor}\n\
         #define VAULT_PARTS_VERSION_PATCH {patch}\n\
         /** The same version as a string, \"MAJOR.MINOR.PATCH\"; vault_parts_version() returns the library's. */\n\
         #define VAULT_PARTS_VERSION_STRING \"{}\"\n\
         /** The same version as one integer for #if: MAJOR*1000000 + MINOR*1000 + PATCH (1.2.3 is 1002003). */\n\
         #define VAULT_PARTS_VERSION_NUMBER {number}",
        env::var("CARGO_PKG_VERSION").unwrap(),
    );

    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(version)
        .generate()
    {
        Ok(bindings) => bindings,
        Err(e) => panic!("cbindgen failed to generate {}: {e}", header.display()),
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    let text = c89_comments(&String::from_utf8(text).expect("cbindgen writes UTF-8"));
    // Left untouched when the content is the same, so an unchanged header keeps its mtime.
    if std::fs::read_to_string(&header).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&header, text).unwrap_or_else(|e| panic!("writing {}: {e}", header.display()));
    }
}

/// cbindgen ends its C++ guards with `// ...` comments, which C89 rejects: the header promises
/// C89, so they become `/* ... */`. Only line-final comments after code are rewritten; the
/// documentation comments are already block comments.
fn c89_comments(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    for line in header.split_inclusive('\n') {
        let (body, newline) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        match body.split_once("// ") {
            Some((code, comment)) if !code.trim().is_empty() && !code.contains("/*") && !code.contains('"') => {
                out.push_str(&format!("{code}/* {} */{newline}", comment.trim_end()));
            }
            _ => out.push_str(line),
        }
    }
    out
}
