#!/bin/sh
# Installs libvault_parts into a temporary prefix (and a DESTDIR staging root), then builds
# tools/vault-parts.c and the C++ wrapper test with nothing but pkg-config, and a consumer with
# nothing but CMake's find_package, shared and static; runs them and the installed vault-parts
# against vault-sim; links libvault_parts.a beside a second Rust static library. Needs
# `make release` done (the Makefile does it).
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAILED: $1"; }
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else bad "$name"; fi; }

tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
major=${version%%.*}
prefix=$tmp/prefix
# LDCONFIG stands in for ldconfig, so the test shows it runs without touching the system cache.
make -s install PREFIX="$prefix" LDCONFIG="touch $tmp/ldconfig-ran" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; bad "make install"; }
if [ "$(id -u)" = 0 ]; then
    check "ldconfig runs after a root install into the real root" test -f "$tmp/ldconfig-ran"
else
    check "ldconfig is left alone without root" test ! -e "$tmp/ldconfig-ran"
fi

lib=$prefix/lib
check "installs libvault_parts.so.$version" test -f "$lib/libvault_parts.so.$version"
check "links libvault_parts.so.$major" test "$(readlink "$lib/libvault_parts.so.$major")" = "libvault_parts.so.$version"
check "links libvault_parts.so" test "$(readlink "$lib/libvault_parts.so")" = "libvault_parts.so.$major"
check "installs libvault_parts.a" test -f "$lib/libvault_parts.a"
check "installs both headers" test -f "$prefix/include/vault_parts.h" -a -f "$prefix/include/vault_parts.hpp"
check "installs bin/vault-parts" test -x "$prefix/bin/vault-parts"
check "installs the man page" test -f "$prefix/share/man/man1/vault-parts.1"
if command -v groff >/dev/null; then
    check "the man page renders without warnings" sh -c "test -z \"\$(groff -man -Tutf8 -ww '$prefix/share/man/man1/vault-parts.1' 2>&1 >/dev/null)\""
fi
check "installs the CMake package" test -f "$lib/cmake/VaultParts/VaultPartsConfig.cmake" -a -f "$lib/cmake/VaultParts/VaultPartsConfigVersion.cmake"
check "vault-parts needs libvault_parts.so.$major" sh -c "readelf -d '$prefix/bin/vault-parts' | grep -q 'NEEDED.*\[libvault_parts.so.$major\]'"
check "vault-parts runs from the installed lib/, no build path" sh -c "readelf -d '$prefix/bin/vault-parts' | grep -q 'R.*PATH.*\[$lib\]' && ! readelf -d '$prefix/bin/vault-parts' | grep -q target/"
check "vault-parts resolves the installed SONAME" sh -c "env -u LD_LIBRARY_PATH ldd '$prefix/bin/vault-parts' | grep -q 'libvault_parts.so.$major => $lib/libvault_parts.so.$major'"
check "the archive exports only vault_parts_* symbols" sh -c "! nm -g --defined-only '$lib/libvault_parts.a' 2>/dev/null | awk 'NF == 3 {print \$3}' | grep -v '^vault_parts_'"
check "the archive exports every vault_parts_* function" test "$(nm -g --defined-only "$lib/libvault_parts.a" | grep -c ' T vault_parts_')" -eq "$(nm -D --defined-only "$lib/libvault_parts.so.$version" | grep -c ' T vault_parts_')"
check "SONAME is libvault_parts.so.$major" sh -c "readelf -d '$lib/libvault_parts.so.$version' | grep -q 'SONAME.*\[libvault_parts.so.$major\]'"
check "exports only vault_parts_* symbols" sh -c "! nm -D --defined-only '$lib/libvault_parts.so.$version' | awk '{print \$3}' | grep -v '^vault_parts_'"
check "release build has no test hook" sh -c "! nm -D --defined-only '$lib/libvault_parts.so.$version' | grep -q vault_parts_test_panic"
check "Libs.private comes from rustc" grep -q "^Libs.private: $(cat build/native-static-libs)\$" "$lib/pkgconfig/vault_parts.pc"

export PKG_CONFIG_PATH="$lib/pkgconfig"
check "pkg-config knows the version" test "$(pkg-config --modversion vault_parts)" = "$version"
cflags="-std=c99 -Wall -Wextra -Wpedantic -Werror"
# shellcheck disable=SC2046
cc $cflags tools/vault-parts.c $(pkg-config --cflags --libs vault_parts) -o "$tmp/list_shared" &&
    ok "builds shared with pkg-config --cflags --libs" || bad "builds shared with pkg-config --cflags --libs"
# A static link of libvault_parts: -Bstatic picks the archive, pkg-config --static adds what it needs.
# shellcheck disable=SC2046
cc $cflags tools/vault-parts.c -Wl,--as-needed -Wl,-Bstatic -lvault_parts -Wl,-Bdynamic \
    $(pkg-config --static --cflags --libs vault_parts) -o "$tmp/list_static" &&
    ok "builds static with pkg-config --static" || bad "builds static with pkg-config --static"
check "shared binary needs libvault_parts.so.$major" sh -c "readelf -d '$tmp/list_shared' | grep -q 'NEEDED.*libvault_parts.so.$major'"
check "static binary does not need libvault_parts" sh -c "! readelf -d '$tmp/list_static' | grep -q libvault_parts"
# shellcheck disable=SC2046
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror tests-c/cxx_wrapper.cpp $(pkg-config --cflags --libs vault_parts) \
    -o "$tmp/cxx" && ok "builds the C++ wrapper test with pkg-config" || bad "builds the C++ wrapper test with pkg-config"

target/release/vault-sim --port 0 --url-file "$tmp/url" --user installed-sid:alice --user other-session-id:bob \
    --upload up1:alice:7 >/dev/null &
sim_pid=$!
i=0
while [ ! -s "$tmp/url" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=$(cat "$tmp/url")
lists_7() { # NAME COMMAND...: the command lists up1's 7 parts
    name=$1; shift
    out=$(VAULT_URL="$url" VAULT_SESSION_ID=installed-sid "$@" list --limit=3 up1 2>&1)
    case $out in *"7 parts, 36700160 bytes") ok "$name lists 7 parts" ;; *) bad "$name lists 7 parts: $out" ;; esac
}
for kind in shared static; do
    lists_7 "$kind pkg-config binary" env LD_LIBRARY_PATH="$lib" "$tmp/list_$kind"
done
lists_7 "installed vault-parts (no LD_LIBRARY_PATH)" env -u LD_LIBRARY_PATH "$prefix/bin/vault-parts"

# CMake: a consumer project finds the package in the prefix; shared, static and alias targets.
if command -v cmake >/dev/null; then
    cmake -S tests-c/cmake-consumer -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DWANT_VERSION="$version" \
        >"$tmp/cmake.log" 2>&1 && cmake --build "$tmp/cmake" >>"$tmp/cmake.log" 2>&1 &&
        ok "CMake consumer configures and builds" || { cat "$tmp/cmake.log"; bad "CMake consumer configures and builds"; }
    check "CMake static consumer does not need libvault_parts" sh -c "! readelf -d '$tmp/cmake/consumer_static' | grep -q libvault_parts"
    check "CMake alias target is the shared library" sh -c "readelf -d '$tmp/cmake/consumer_alias' | grep -q 'NEEDED.*libvault_parts.so.$major'"
    for kind in shared static alias; do
        lists_7 "CMake $kind consumer" env -u LD_LIBRARY_PATH "$tmp/cmake/consumer_$kind"
    done
    check "CMake refuses another major version" sh -c "! cmake -S tests-c/cmake-consumer -B '$tmp/cmake-major' -DCMAKE_PREFIX_PATH='$prefix' -DWANT_VERSION=$((major + 1)).0"
else
    bad "cmake is missing (.ci/run installs it)"
fi

# libvault_parts.a beside a second Rust static library: its std copy must not clash with ours.
rustc --edition 2021 -O --crate-type staticlib tests-c/two-rust/other.rs -o "$tmp/libother_rust.a" 2>"$tmp/rustc.log" ||
    { cat "$tmp/rustc.log"; bad "builds the second Rust static library"; }
# shellcheck disable=SC2046
cc $cflags -Iinclude tests-c/two-rust/main.c "$lib/libvault_parts.a" "$tmp/libother_rust.a" \
    $(cat build/native-static-libs) -o "$tmp/two_rust" 2>"$tmp/two_rust.log" &&
    ok "links libvault_parts.a beside another Rust static library" ||
    { cat "$tmp/two_rust.log"; bad "links libvault_parts.a beside another Rust static library"; }
out=$("$tmp/two_rust" "$url" installed-sid up1)
check "both Rust libraries work in one program" test "$out" = "two_rust: 7 parts, sum 55"
# Every member of both archives, as when they are combined into one shared library: only the
# installed archive survives this; rustc's own (the control) clashes on Rust's std symbols.
both_whole() { # ARCHIVE OUTPUT
    cc -Iinclude tests-c/two-rust/main.c -Wl,--whole-archive "$1" "$tmp/libother_rust.a" -Wl,--no-whole-archive \
        $(cat build/native-static-libs) -o "$2"
}
check "links beside it even with --whole-archive" both_whole "$lib/libvault_parts.a" "$tmp/two_rust_whole"
check "rustc's unprocessed archive clashes there (control)" sh -c "! $(command -v cc) -Iinclude tests-c/two-rust/main.c -Wl,--whole-archive target/release/libvault_parts.a '$tmp/libother_rust.a' -Wl,--no-whole-archive $(cat build/native-static-libs) -o '$tmp/two_rust_raw' 2>/dev/null"
out=$("$tmp/two_rust_whole" "$url" installed-sid up1)
check "the --whole-archive program works" test "$out" = "two_rust: 7 parts, sum 55"
out=$(LD_LIBRARY_PATH="$lib" "$tmp/cxx" "$url" installed-sid up1 7 other-session-id)
check "C++ wrapper test passes" test "$out" = "cxx_wrapper: 7 parts, 0 failed checks"

make -s uninstall PREFIX="$prefix" >/dev/null 2>&1
check "uninstall removes every file" test -z "$(find "$prefix" -type f -o -type l)"

# Packagers stage with DESTDIR; the .pc file names the final prefix.
rm -f "$tmp/ldconfig-ran"
make -s install PREFIX=/opt/vp DESTDIR="$tmp/stage" LDCONFIG="touch $tmp/ldconfig-ran" >/dev/null 2>&1
check "DESTDIR stages under the root" test -f "$tmp/stage/opt/vp/lib/libvault_parts.so.$version"
check "DESTDIR installs do not run ldconfig" test ! -e "$tmp/ldconfig-ran"
check "DESTDIR keeps the final prefix in the CMake package" grep -q '"/opt/vp/lib/libvault_parts.a"' "$tmp/stage/opt/vp/lib/cmake/VaultParts/VaultPartsConfig.cmake"
check "DESTDIR keeps the final prefix in the .pc" grep -q '^prefix=/opt/vp$' "$tmp/stage/opt/vp/lib/pkgconfig/vault_parts.pc"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
