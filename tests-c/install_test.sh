#!/bin/sh
# Installs libvault_parts into a temporary prefix (and a DESTDIR staging root), then builds
# tools/vault-parts.c and the C++ wrapper test with nothing but pkg-config (shared, the archive,
# and fully static with -static), and a consumer with nothing but CMake's find_package, shared
# and static; runs them and the installed vault-parts against the installed vault-sim; links
# libvault_parts.a beside a second Rust static library; checks when install runs ldconfig and
# that the tool's link takes CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS. Needs `make release` done
# (the Makefile does it).
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
# LDCONFIG stands in for ldconfig, so the test shows whether it runs without touching the
# system cache. LDFLAGS and CPPFLAGS reach the tool's link: -z now shows in the binary.
make -s install PREFIX="$prefix" LDCONFIG="touch $tmp/ldconfig-ran" LDFLAGS="-Wl,-z,now" \
    CPPFLAGS="-DVAULT_PARTS_INSTALL_TEST=1" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; bad "make install"; }
check "ldconfig is left alone for a prefix outside the loader's directories (root or not)" test ! -e "$tmp/ldconfig-ran"
check "the installed vault-parts is linked with LDFLAGS" sh -c "readelf -d '$prefix/bin/vault-parts' | grep -q 'FLAGS.*NOW'"

# When install runs ldconfig, from make -n: the one line it would run is the stand-in's.
root=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)
ldconfig_lines() { # MAKE-ARGS...: how many times install would run the stand-in
    make -n --no-print-directory install LDCONFIG=ldconfig-stand-in "$@" 2>/dev/null | grep -c '^ldconfig-stand-in || '
}
multiarch=$(cc -print-multiarch 2>/dev/null)
check "ldconfig runs for PREFIX=/usr as root, not otherwise ($root)" test "$(ldconfig_lines PREFIX=/usr)" = "$root"
if [ -n "$multiarch" ]; then
    check "ldconfig runs for LIBDIR=/usr/lib/$multiarch as root, not otherwise ($root)" \
        test "$(ldconfig_lines PREFIX=/usr LIBDIR=/usr/lib/$multiarch)" = "$root"
fi
check "ldconfig is left alone for PREFIX=/opt/vp" test "$(ldconfig_lines PREFIX=/opt/vp)" = 0
check "ldconfig is left alone for LIBDIR=/usr/lib/vp" test "$(ldconfig_lines PREFIX=/usr LIBDIR=/usr/lib/vp)" = 0
check "ldconfig is left alone with DESTDIR" test "$(ldconfig_lines PREFIX=/usr DESTDIR="$tmp/stage-n")" = 0
check "ldconfig is left alone with LDCONFIG=" test "$(make -n --no-print-directory install PREFIX=/usr LDCONFIG= 2>/dev/null | grep -c ldconfig)" = 0

# The tool's compile and link lines, exactly: this tree's -I and -L first, then the user's flags
# where GNU make's conventions put them.
flags="CC=cc CPPFLAGS=-DCPP_MARK CFLAGS=-O1 LDFLAGS=-Wl,-z,now LDLIBS=-lm"
# shellcheck disable=SC2086
line=$(make -n --no-print-directory install PREFIX=/opt/vp $flags 2>/dev/null | grep 'tools/vault-parts.c')
check "install's tool link honours CPPFLAGS, CFLAGS, LDFLAGS, LDLIBS" test "$line" = \
    "cc -Iinclude -DCPP_MARK -O1 tools/vault-parts.c -o build/vault-parts.installed -Ltarget/release -Wl,-z,now -lvault_parts -lm -Wl,-rpath,/opt/vp/lib"
# shellcheck disable=SC2086
line=$(make -n --no-print-directory install PREFIX=/opt/vp TOOL_RPATH= $flags 2>/dev/null | grep 'tools/vault-parts.c')
check "TOOL_RPATH= links the tool without a run path" test "$line" = \
    "cc -Iinclude -DCPP_MARK -O1 tools/vault-parts.c -o build/vault-parts.installed -Ltarget/release -Wl,-z,now -lvault_parts -lm "
# shellcheck disable=SC2086
line=$(make -n --no-print-directory -W tools/vault-parts.c build/vault-parts $flags 2>/dev/null | grep 'tools/vault-parts.c')
check "the demo's tool link honours them too" test "$line" = \
    "cc -Iinclude -DCPP_MARK -O1 tools/vault-parts.c -o build/vault-parts -Ltarget/debug -Wl,-z,now -lvault_parts -lm -Wl,-rpath,$PWD/target/debug"

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
check "installs bin/vault-sim" test -x "$prefix/bin/vault-sim"
check "installs vault-sim's man page" test -f "$prefix/share/man/man1/vault-sim.1"
check "the installed vault-sim is the release build" cmp "$prefix/bin/vault-sim" target/release/vault-sim
check "vault-sim --version is $version" test "$("$prefix/bin/vault-sim" --version)" = "vault-sim $version"
check "vault-sim needs nothing from the build tree" sh -c "! readelf -d '$prefix/bin/vault-sim' | grep -q 'PATH' && ! env -u LD_LIBRARY_PATH ldd '$prefix/bin/vault-sim' | grep -q 'not found'"
if command -v groff >/dev/null; then
    check "vault-sim's man page renders without warnings" sh -c "test -z \"\$(groff -man -Tutf8 -ww '$prefix/share/man/man1/vault-sim.1' 2>&1 >/dev/null)\""
fi
# vault-sim(1) documents exactly the options of vault-sim --help, with their defaults.
man_opts=$(awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }' "$prefix/share/man/man1/vault-sim.1" |
    sed -e 's/\\f.//g' -e 's/\\//g' | grep -o -- '--[a-z][a-z-]*' | sort -u)
help_opts=$("$prefix/bin/vault-sim" --help | grep -o '^ *\(-[a-zA-Z], \)\{0,1\}--[a-z][a-z-]*' | grep -o -- '--[a-z][a-z-]*' | sort -u)
check "vault-sim(1) has every option of vault-sim --help and no other" test -n "$help_opts" -a "$man_opts" = "$help_opts"
"$prefix/bin/vault-sim" --help | sed -n 's/.*\[default: \([^]]*\)\].*/\1/p' > "$tmp/sim-defaults"
missing_defaults=$(while read -r d; do
    grep -q -e "(default $d)" -e "$d, the default" "$prefix/share/man/man1/vault-sim.1" || echo "$d"
done < "$tmp/sim-defaults")
check "vault-sim(1) states every default of --help" test -s "$tmp/sim-defaults" -a -z "$missing_defaults"
check "installs the CMake package" test -f "$lib/cmake/VaultParts/VaultPartsConfig.cmake" -a -f "$lib/cmake/VaultParts/VaultPartsConfigVersion.cmake"
check "vault-parts needs libvault_parts.so.$major" sh -c "readelf -d '$prefix/bin/vault-parts' | grep -q 'NEEDED.*\[libvault_parts.so.$major\]'"
check "vault-parts runs from the installed lib/, no build path" sh -c "readelf -d '$prefix/bin/vault-parts' | grep -q 'R.*PATH.*\[$lib\]' && ! readelf -d '$prefix/bin/vault-parts' | grep -q target/"
check "vault-parts resolves the installed SONAME" sh -c "env -u LD_LIBRARY_PATH ldd '$prefix/bin/vault-parts' | grep -q 'libvault_parts.so.$major => $lib/libvault_parts.so.$major'"
check "the archive exports only vault_parts_* symbols" sh -c "! nm -g --defined-only '$lib/libvault_parts.a' 2>/dev/null | awk 'NF == 3 {print \$3}' | grep -v '^vault_parts_'"
check "the archive exports every vault_parts_* function" test "$(nm -g --defined-only "$lib/libvault_parts.a" | grep -c ' T vault_parts_')" -eq "$(nm -D --defined-only "$lib/libvault_parts.so.$version" | grep -c ' T vault_parts_')"
check "SONAME is libvault_parts.so.$major" sh -c "readelf -d '$lib/libvault_parts.so.$version' | grep -q 'SONAME.*\[libvault_parts.so.$major\]'"
check "exports only vault_parts_* symbols" sh -c "! nm -D --defined-only '$lib/libvault_parts.so.$version' | awk '{print \$3}' | grep -v '^vault_parts_'"
check "release build has no test hook" sh -c "! nm -D --defined-only '$lib/libvault_parts.so.$version' | grep -q vault_parts_test_panic"
# rustc's list but -lgcc_s: the compiler driver links the unwinder itself, libgcc_s.so as needed
# in a dynamic program and libgcc_eh.a with -static, where -lgcc_s has no archive to find.
libs_private=$(tr ' ' '\n' < build/native-static-libs | grep -v -x -e -lgcc_s -e '' | tr '\n' ' ' | sed 's/ $//')
check "rustc names -lgcc_s (what the .pc leaves out)" grep -q -e '-lgcc_s' build/native-static-libs
check "Libs.private is rustc's list without -lgcc_s" grep -q -x "Libs.private: $libs_private" "$lib/pkgconfig/vault_parts.pc"
check "the CMake static target's libraries are the same" grep -q -F \
    "INTERFACE_LINK_LIBRARIES \"Threads::Threads;$(echo "$libs_private" | sed -e 's/-l//g' -e 's/ /;/g')\")" \
    "$lib/cmake/VaultParts/VaultPartsConfig.cmake"

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
# Fully static (libc too): -static makes the linker take every archive, libvault_parts.a included.
# glibc warns that getaddrinfo and getpwuid_r (Rust's std uses both) load NSS modules of the
# same glibc at run time; numeric addresses, as here, need none.
# shellcheck disable=SC2046
cc -static $cflags tools/vault-parts.c $(pkg-config --static --cflags --libs vault_parts) -o "$tmp/list_full_static" \
    2>"$tmp/full_static.log" && ok "builds fully static with cc -static and pkg-config --static" ||
    { cat "$tmp/full_static.log"; bad "builds fully static with cc -static and pkg-config --static"; }
check "the fully static binary has no dynamic section" sh -c "! readelf -d '$tmp/list_full_static' | grep -q NEEDED && ! readelf -l '$tmp/list_full_static' | grep -q INTERP"
check "the -static link warns only of glibc's NSS functions" sh -c \
    "! grep -v -e ': in function ' -e \"warning: Using '\(getaddrinfo\|getpwuid_r\|getpwnam_r\|gethostbyname_r\)' in statically linked applications\" '$tmp/full_static.log'"
check "shared binary needs libvault_parts.so.$major" sh -c "readelf -d '$tmp/list_shared' | grep -q 'NEEDED.*libvault_parts.so.$major'"
check "static binary does not need libvault_parts" sh -c "! readelf -d '$tmp/list_static' | grep -q libvault_parts"
# shellcheck disable=SC2046
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror tests-c/cxx_wrapper.cpp $(pkg-config --cflags --libs vault_parts) \
    -o "$tmp/cxx" && ok "builds the C++ wrapper test with pkg-config" || bad "builds the C++ wrapper test with pkg-config"

# The installed vault-sim, not the build tree's: a file-backed session too, for verify.
seq 3000000 | head -c 12000000 > "$tmp/v.bin"
"$prefix/bin/vault-sim" --port 0 --url-file "$tmp/url" --user installed-sid:alice --user other-session-id:bob \
    --upload up1:alice:7 --upload-file vf1:alice:"$tmp/v.bin":5242880:2 >/dev/null &
sim_pid=$!
i=0
while [ ! -s "$tmp/url" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=$(cat "$tmp/url")
lists_7() { # NAME COMMAND...: the command lists up1's 7 parts
    name=$1; shift
    out=$(VAULT_URL="$url" VAULT_SESSION_ID=installed-sid "$@" list --limit=3 up1 2>&1)
    case $out in *"7 parts, 36700160 bytes") ok "$name lists 7 parts" ;; *) bad "$name lists 7 parts: $out" ;; esac
}
for kind in shared static full_static; do
    lists_7 "$kind pkg-config binary" env LD_LIBRARY_PATH="$lib" "$tmp/list_$kind"
done
verifies() { # NAME COMMAND...: the command verifies v.bin against vf1 (2 of 3 parts uploaded)
    name=$1; shift
    out=$(VAULT_URL="$url" VAULT_SESSION_ID=installed-sid "$@" verify vf1 "$tmp/v.bin" 2>&1)
    status=$?
    case $status:$out in
        "1:"*"3 parts: 2 OK, 1 MISSING; 10485760 bytes hashed; resumable"*) ok "$name verifies against the installed vault-sim" ;;
        *) bad "$name verifies against the installed vault-sim: status $status, $out" ;;
    esac
}
for kind in shared static full_static; do
    verifies "$kind pkg-config binary" env LD_LIBRARY_PATH="$lib" "$tmp/list_$kind"
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
    # The static target in a -static link: no -lgcc_s either.
    mkdir -p "$tmp/cmake-full-static-src"
    cat > "$tmp/cmake-full-static-src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.14)
project(full_static C)
find_package(VaultParts REQUIRED)
add_executable(consumer_full_static "$PWD/tools/vault-parts.c")
target_link_libraries(consumer_full_static PRIVATE VaultParts::vault_parts_static)
target_link_options(consumer_full_static PRIVATE -static)
EOF
    cmake -S "$tmp/cmake-full-static-src" -B "$tmp/cmake-full-static" -DCMAKE_PREFIX_PATH="$prefix" \
        >"$tmp/cmake-fs.log" 2>&1 && cmake --build "$tmp/cmake-full-static" >>"$tmp/cmake-fs.log" 2>&1 &&
        ok "CMake static target links with -static" || { cat "$tmp/cmake-fs.log"; bad "CMake static target links with -static"; }
    check "the CMake -static consumer has no dynamic section" sh -c "! readelf -l '$tmp/cmake-full-static/consumer_full_static' | grep -q INTERP"
    lists_7 "CMake -static consumer" "$tmp/cmake-full-static/consumer_full_static"
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
check "DESTDIR stages vault-sim" test -x "$tmp/stage/opt/vp/bin/vault-sim" -a -f "$tmp/stage/opt/vp/share/man/man1/vault-sim.1"
make -s uninstall PREFIX=/opt/vp DESTDIR="$tmp/stage" >/dev/null 2>&1
check "uninstall with DESTDIR removes every file" test -z "$(find "$tmp/stage" -type f -o -type l)"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
