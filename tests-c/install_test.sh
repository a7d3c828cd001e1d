#!/bin/sh
# Installs libvault_parts into a temporary prefix (and a DESTDIR staging root), then builds
# examples/list_parts.c and the C++ wrapper test with nothing but pkg-config, shared and
# static, and runs them against vault-sim. Needs `make release` done (the Makefile does it).
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
make -s install PREFIX="$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; bad "make install"; }

lib=$prefix/lib
check "installs libvault_parts.so.$version" test -f "$lib/libvault_parts.so.$version"
check "links libvault_parts.so.$major" test "$(readlink "$lib/libvault_parts.so.$major")" = "libvault_parts.so.$version"
check "links libvault_parts.so" test "$(readlink "$lib/libvault_parts.so")" = "libvault_parts.so.$major"
check "installs libvault_parts.a" test -f "$lib/libvault_parts.a"
check "installs both headers" test -f "$prefix/include/vault_parts.h" -a -f "$prefix/include/vault_parts.hpp"
check "SONAME is libvault_parts.so.$major" sh -c "readelf -d '$lib/libvault_parts.so.$version' | grep -q 'SONAME.*\[libvault_parts.so.$major\]'"
check "exports only vault_parts_* symbols" sh -c "! nm -D --defined-only '$lib/libvault_parts.so.$version' | awk '{print \$3}' | grep -v '^vault_parts_'"
check "release build has no test hook" sh -c "! nm -D --defined-only '$lib/libvault_parts.so.$version' | grep -q vault_parts_test_panic"
check "Libs.private comes from rustc" grep -q "^Libs.private: $(cat build/native-static-libs)\$" "$lib/pkgconfig/vault_parts.pc"

export PKG_CONFIG_PATH="$lib/pkgconfig"
check "pkg-config knows the version" test "$(pkg-config --modversion vault_parts)" = "$version"
cflags="-std=c99 -Wall -Wextra -Wpedantic -Werror"
# shellcheck disable=SC2046
cc $cflags examples/list_parts.c $(pkg-config --cflags --libs vault_parts) -o "$tmp/list_shared" &&
    ok "builds shared with pkg-config --cflags --libs" || bad "builds shared with pkg-config --cflags --libs"
# A static link of libvault_parts: -Bstatic picks the archive, pkg-config --static adds what it needs.
# shellcheck disable=SC2046
cc $cflags examples/list_parts.c -Wl,--as-needed -Wl,-Bstatic -lvault_parts -Wl,-Bdynamic \
    $(pkg-config --static --cflags --libs vault_parts) -o "$tmp/list_static" &&
    ok "builds static with pkg-config --static" || bad "builds static with pkg-config --static"
check "shared binary needs libvault_parts.so.$major" sh -c "readelf -d '$tmp/list_shared' | grep -q 'NEEDED.*libvault_parts.so.$major'"
check "static binary does not need libvault_parts" sh -c "! readelf -d '$tmp/list_static' | grep -q libvault_parts"
# shellcheck disable=SC2046
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror tests-c/cxx_wrapper.cpp $(pkg-config --cflags --libs vault_parts) \
    -o "$tmp/cxx" && ok "builds the C++ wrapper test with pkg-config" || bad "builds the C++ wrapper test with pkg-config"

target/release/vault-sim --port 0 --url-file "$tmp/url" --user installed-sid:alice --user other-sid:bob \
    --upload up1:alice:7 >/dev/null &
sim_pid=$!
i=0
while [ ! -s "$tmp/url" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=$(cat "$tmp/url")
for kind in shared static; do
    out=$(LD_LIBRARY_PATH="$lib" VAULT_URL="$url" VAULT_SESSION_ID=installed-sid "$tmp/list_$kind" --limit 3 up1)
    case $out in *"7 parts, 36700160 bytes"*) ok "$kind binary lists 7 parts" ;; *) bad "$kind binary lists 7 parts: $out" ;; esac
done
out=$(LD_LIBRARY_PATH="$lib" "$tmp/cxx" "$url" installed-sid up1 7 other-sid)
check "C++ wrapper test passes" test "$out" = "cxx_wrapper: 7 parts, 0 failed checks"

make -s uninstall PREFIX="$prefix" >/dev/null 2>&1
check "uninstall removes every file" test -z "$(find "$prefix" -type f -o -type l)"

# Packagers stage with DESTDIR; the .pc file names the final prefix.
make -s install PREFIX=/opt/vp DESTDIR="$tmp/stage" >/dev/null 2>&1
check "DESTDIR stages under the root" test -f "$tmp/stage/opt/vp/lib/libvault_parts.so.$version"
check "DESTDIR keeps the final prefix in the .pc" grep -q '^prefix=/opt/vp$' "$tmp/stage/opt/vp/lib/pkgconfig/vault_parts.pc"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
