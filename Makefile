# libvault_parts: `make demo` and `make test` are the two commands a fresh machine needs.

CARGO  ?= cargo
CC     ?= cc
BUILD  := build
DEBUG  := target/debug
CFLAGS ?= -std=c99 -Wall -Wextra -Wpedantic -Werror -O2

# The version comes from Cargo.toml only.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
MAJOR   := $(word 1,$(subst ., ,$(VERSION)))
SIZEOF_VOID_P := $(shell echo $$(( $$(getconf LONG_BIT) / 8 )))

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
CMAKEDIR   ?= $(LIBDIR)/cmake/VaultParts
DESTDIR    ?=
RELEASE    := target/release
# Where the installed vault-parts looks for libvault_parts.so.MAJOR besides the loader's own
# paths: the installed LIBDIR, never a build directory. TOOL_RPATH= leaves it to ld.so.conf.
TOOL_RPATH ?= $(LIBDIR)
# Run after a root install into the real root (no DESTDIR) whose LIBDIR the loader's cache
# covers, so the loader knows the new SONAME at once. Another prefix (/opt/vp, $HOME/.local) is
# left alone: ldconfig would not look there, and the system's cache is not the install's to
# rewrite. See README, "Install and link".
SYSTEM_LDCONFIG = $(firstword $(wildcard /sbin/ldconfig /usr/sbin/ldconfig) $(shell command -v ldconfig))
LDCONFIG   ?= $(SYSTEM_LDCONFIG)
# The directories the cache covers, symlinks resolved: ld.so's trusted ones, those listed in
# /etc/ld.so.conf and the files it includes (as ldconfig -v reports them, and as written in
# the usual /etc/ld.so.conf.d/*.conf, for one that does not exist yet). Expanded only by install.
LOADER_LIBDIRS = $(sort $(shell { echo /lib /usr/lib /lib64 /usr/lib64; \
	sed -n 's|^[[:space:]]*\(/[^[:space:]\#]*\).*|\1|p' /etc/ld.so.conf /etc/ld.so.conf.d/*.conf; \
	$(SYSTEM_LDCONFIG) -v -N | sed -n 's|^\(/[^:]*\):.*|\1|p'; } 2>/dev/null | xargs realpath -m --))
RUN_LDCONFIG = $(if $(DESTDIR),,$(and $(LDCONFIG),$(filter 0,$(shell id -u)),\
	$(filter $(shell realpath -m -- '$(LIBDIR)'),$(LOADER_LIBDIRS))))

.PHONY: all lib release static-archive demo demo-sim test lint check-header test-install test-python py-venv wheel install uninstall bench fuzz clean

all: lib

lib:
	$(CARGO) build --workspace
	ln -sf libvault_parts.so $(DEBUG)/libvault_parts.so.$(MAJOR)

# The release libraries and vault-sim, plus the system libraries a static link needs, as rustc
# reports them (native-static-libs), and the same for the .pc and CMake files (static-link-libs):
# without -lgcc_s, the unwinder as a shared library, which rustc names but the C compiler's
# driver already links (as needed) into a dynamic program, and replaces with libgcc_eh.a in a
# -static one, where -lgcc_s has no archive to find and fails the link.
release: | $(BUILD)
	$(CARGO) build --release -p vault-sim
	$(CARGO) rustc --release --lib -p vault_parts -- --print native-static-libs 2> $(BUILD)/rustc-release.log || \
		{ cat $(BUILD)/rustc-release.log; exit 1; }
	sed -n 's/.*native-static-libs: //p' $(BUILD)/rustc-release.log | tail -n1 > $(BUILD)/native-static-libs
	test -s $(BUILD)/native-static-libs
	sed -e 's/^/ /' -e 's/ -lgcc_s\( \|$$\)/\1/g' -e 's/^ *//' $(BUILD)/native-static-libs > $(BUILD)/static-link-libs
	test -s $(BUILD)/static-link-libs
	ln -sf libvault_parts.so $(RELEASE)/libvault_parts.so.$(MAJOR)
	$(MAKE) --no-print-directory static-archive

# The installed archive exports only vault_parts_*: rustc's staticlib carries Rust's std, ring
# and compiler_builtins as global symbols, which clash with a second Rust static library in
# the same program. A partial link (ld -r) makes one object of every member, then objcopy
# turns every defined symbol but the exported ones local; references inside the object are
# already resolved, so nothing else changes. --force-group-allocation dissolves COMDAT groups:
# a kept group whose symbol we made local would otherwise displace the other library's copy
# (seen with DW.ref.rust_eh_personality). The LTO'd crate also embeds LLVM bitcode
# (.llvmbc), useless to a C linker and fatal to binutils' nm with the LLVM plugin: dropped.
# readelf, not nm, lists the exports for that reason.
static-archive: | $(BUILD)
	readelf -sW $(RELEASE)/libvault_parts.a | \
		awk '$$5 == "GLOBAL" && $$7 != "UND" && $$8 ~ /^vault_parts_/ { print $$8 }' | sort -u > $(BUILD)/exports.txt
	test -s $(BUILD)/exports.txt
	$(LD) -r --force-group-allocation --whole-archive $(RELEASE)/libvault_parts.a -o $(BUILD)/vault_parts.o
	objcopy --keep-global-symbols=$(BUILD)/exports.txt --remove-section=.llvmbc --remove-section=.llvmcmd \
		$(BUILD)/vault_parts.o
	rm -f $(BUILD)/libvault_parts.a
	ar rcs $(BUILD)/libvault_parts.a $(BUILD)/vault_parts.o

# The command-line tool for the demo and tests, linked against the debug library in place.
# CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS as GNU make's conventions place them; this tree's
# header and library come first, so that another copy in a -I or -L of the user's is not taken.
TOOL_LINK = $(CC) -Iinclude $(CPPFLAGS) $(CFLAGS) tools/vault-parts.c -o $(2) -L$(1) $(LDFLAGS) -lvault_parts $(LDLIBS)
$(BUILD)/vault-parts: tools/vault-parts.c include/vault_parts.h lib | $(BUILD)
	$(call TOOL_LINK,$(DEBUG),$@) -Wl,-rpath,$(CURDIR)/$(DEBUG)

$(BUILD):
	mkdir -p $@

# The verify demo's local file: 6 parts of 5 MiB (Vault's smallest, so verify can read the
# part size off the listing) and a shorter 7th, different from part to part and the same on
# every machine.
$(BUILD)/demo.bin: | $(BUILD)
	@seq 5000000 | head -c 31757280 > $@

# Builds, starts vault-sim with three sessions and runs the tool on each: lists a 7-part demo
# session, 3 parts a page; verifies build/demo.bin against a session holding its first 5 parts,
# part 3 corrupted (nothing is sent); then resumes the upload of build/demo.bin into a session
# holding its first 4 parts, part 2 corrupted: the intact parts are kept, the others sent, the
# file committed and the commit's job (1.5 s in vault-sim) polled every 0.5 s until the file is
# on file staging. Stops vault-sim; exits with the resume's status.
DEMO_ENV = $(NO_PROXY_ENV) VAULT_URL=$$(cat $(BUILD)/sim.url) VAULT_SESSION_ID=demo-session-id
DEMO_SIM_ARGS = --user demo-session-id:alice --upload 3f9c2e71demo:alice:7:5242880:1048576 \
	--upload-file 5d0e8a44verify:alice:$(BUILD)/demo.bin:5242880:5 --part-fault 5d0e8a44verify:md5=3 \
	--upload-file 7b21c9d0resume:alice:$(BUILD)/demo.bin:5242880:4 --part-fault 7b21c9d0resume:md5=2 \
	--job-delay-ms 1500 --job-poll-window-ms 400
demo: $(BUILD)/vault-parts $(BUILD)/demo.bin
	@rm -f $(BUILD)/sim.url $(BUILD)/demo-resume.status
	@$(DEBUG)/vault-sim --port 0 --url-file $(BUILD)/sim.url $(DEMO_SIM_ARGS) >/dev/null & \
	sim=$$!; trap 'kill $$sim 2>/dev/null' EXIT; \
	for i in $$(seq 100); do [ -s $(BUILD)/sim.url ] && break; sleep 0.05; done; \
	echo "vault-sim at $$(cat $(BUILD)/sim.url); listing upload session 3f9c2e71demo, 3 parts a page:"; \
	$(DEMO_ENV) $(BUILD)/vault-parts list --limit 3 --verbose 3f9c2e71demo 2>&1 | grep -v ' debug: '; \
	echo; echo "verifying $(BUILD)/demo.bin against upload session 5d0e8a44verify (parts 1-5 uploaded, part 3 corrupted):"; \
	$(DEMO_ENV) $(BUILD)/vault-parts verify 5d0e8a44verify $(BUILD)/demo.bin; \
	echo "exit status $$? (0 commit-ready, 1 resumable, 2 mismatches found, 3 not resumable)"; \
	echo; echo "resuming the upload of $(BUILD)/demo.bin to upload session 7b21c9d0resume (parts 1-4 uploaded,"; \
	echo "part 2 corrupted): parts Vault holds intact are kept, the others sent, then the file is committed:"; \
	{ $(DEMO_ENV) $(BUILD)/vault-parts resume --verbose --poll 0.5 7b21c9d0resume $(BUILD)/demo.bin 2>&1; \
		echo $$? > $(BUILD)/demo-resume.status; } | grep -v ' debug: '; \
	status=$$(cat $(BUILD)/demo-resume.status); \
	echo "exit status $$status (0: every part on Vault and the file on file staging)"; \
	exit $$status

# The demo's vault-sim alone, with the same three sessions (fresh: nothing resumed yet), on
# 127.0.0.1:$(DEMO_PORT) until Ctrl-C, for the README's vault-parts commands from another shell.
DEMO_PORT ?= 8080
demo-sim: $(BUILD)/vault-parts $(BUILD)/demo.bin
	@echo "in another shell: export VAULT_URL=http://127.0.0.1:$(DEMO_PORT) VAULT_SESSION_ID=demo-session-id"
	@echo "then, e.g.: $(BUILD)/vault-parts verify 5d0e8a44verify $(BUILD)/demo.bin"
	$(DEBUG)/vault-sim --port $(DEMO_PORT) $(DEMO_SIM_ARGS)

# Everything CI runs. The README's Python examples run inside cargo test (tests/readme.rs), in
# the virtual environment the package is installed into first.
test: lint check-header py-venv
	VAULT_PARTS_PYTHON=$(CURDIR)/$(PY_VENV)/bin/python $(CARGO) test --workspace
	$(MAKE) test-python test-install

# Tests talk to vault-sim on loopback: a proxy from the environment must not intercept them.
NO_PROXY_ENV := env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY

PYTHON  ?= python3
PY_VENV := $(BUILD)/py-venv

# A fresh virtual environment with the package installed the README's way (pip builds the
# release library with maturin; the wheel carries it), pytest, and vault-sim from this tree.
# Remade whenever the package or the library changed (a stamp, so test's recursive make reuses it).
PY_SOURCES := Cargo.toml Cargo.lock build.rs cbindgen.toml $(shell find src vault-sim/src python/src python/pyproject.toml -type f 2>/dev/null)
py-venv: $(PY_VENV)/installed
$(PY_VENV)/installed: $(PY_SOURCES) | lib $(BUILD)
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q --disable-pip-version-check ./python pytest
	install -m 0755 $(DEBUG)/vault-sim $(PY_VENV)/bin/vault-sim
	touch $@

# The package's wheel alone, in build/wheels (what `pip install ./python` builds and installs).
wheel: | $(BUILD)
	rm -f $(BUILD)/wheels/vault_parts-*.whl
	$(PYTHON) -m pip wheel -q --disable-pip-version-check --no-deps ./python -w $(BUILD)/wheels

# The ABI from a second language: Python's ctypes against the debug library and vault-sim;
# then the package's pytest suite in the fresh environment (and its wheel installed alone).
test-python: lib py-venv wheel
	$(NO_PROXY_ENV) VAULT_PARTS_LIB=$(DEBUG)/libvault_parts.so VAULT_SIM=$(DEBUG)/vault-sim python3 tests-py/test_ctypes.py
	$(NO_PROXY_ENV) VAULT_SIM=$(CURDIR)/$(PY_VENV)/bin/vault-sim VAULT_PARTS_WHEEL="$$(ls $(CURDIR)/$(BUILD)/wheels/vault_parts-*.whl)" \
		$(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider python/tests

# Installs into a temporary prefix and builds C programs with nothing but pkg-config.
test-install: release
	$(NO_PROXY_ENV) sh tests-c/install_test.sh

# Fills a template's @NAME@ fields; the .pc and CMake files name the final prefix, not DESTDIR.
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	-e 's|@VERSION@|$(VERSION)|' -e 's|@MAJOR@|$(MAJOR)|' -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|' \
	-e "s|@LIBS_PRIVATE@|$$(cat $(BUILD)/static-link-libs)|" \
	-e "s|@STATIC_LIBS@|$$(sed -e 's/-l//g' -e 's/  */;/g' -e 's/^;//' -e 's/;$$//' $(BUILD)/static-link-libs)|"

install: release
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(CMAKEDIR)
	install -m 0755 $(RELEASE)/libvault_parts.so $(DESTDIR)$(LIBDIR)/libvault_parts.so.$(VERSION)
	ln -sf libvault_parts.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvault_parts.so.$(MAJOR)
	ln -sf libvault_parts.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libvault_parts.so
	install -m 0644 $(BUILD)/libvault_parts.a $(DESTDIR)$(LIBDIR)/libvault_parts.a
	install -m 0644 include/vault_parts.h include/vault_parts.hpp $(DESTDIR)$(INCLUDEDIR)/
	$(SUBST) vault_parts.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/vault_parts.pc
	$(SUBST) cmake/VaultPartsConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/VaultPartsConfig.cmake
	$(SUBST) cmake/VaultPartsConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/VaultPartsConfigVersion.cmake
	# The tool links the release library by its SONAME; its run path is the installed LIBDIR.
	$(call TOOL_LINK,$(RELEASE),$(BUILD)/vault-parts.installed) $(if $(TOOL_RPATH),-Wl$(comma)-rpath$(comma)$(TOOL_RPATH))
	install -m 0755 $(BUILD)/vault-parts.installed $(DESTDIR)$(BINDIR)/vault-parts
	install -m 0644 docs/vault-parts.1 $(DESTDIR)$(MANDIR)/man1/vault-parts.1
	# vault-sim, for offline tests of programs using the library; vault-sim(1) is its --help.
	install -m 0755 $(RELEASE)/vault-sim $(DESTDIR)$(BINDIR)/vault-sim
	install -m 0644 docs/vault-sim.1 $(DESTDIR)$(MANDIR)/man1/vault-sim.1
	$(if $(RUN_LDCONFIG),$(LDCONFIG) || echo "warning: ldconfig failed: the loader may not find libvault_parts.so.$(MAJOR) yet")

comma := ,

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libvault_parts.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvault_parts.so.$(MAJOR) \
		$(DESTDIR)$(LIBDIR)/libvault_parts.so $(DESTDIR)$(LIBDIR)/libvault_parts.a \
		$(DESTDIR)$(LIBDIR)/pkgconfig/vault_parts.pc \
		$(DESTDIR)$(INCLUDEDIR)/vault_parts.h $(DESTDIR)$(INCLUDEDIR)/vault_parts.hpp \
		$(DESTDIR)$(BINDIR)/vault-parts $(DESTDIR)$(MANDIR)/man1/vault-parts.1 \
		$(DESTDIR)$(BINDIR)/vault-sim $(DESTDIR)$(MANDIR)/man1/vault-sim.1 \
		$(DESTDIR)$(CMAKEDIR)/VaultPartsConfig.cmake $(DESTDIR)$(CMAKEDIR)/VaultPartsConfigVersion.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The committed header must be what cbindgen generates from the sources.
check-header: | $(BUILD)
	cp include/vault_parts.h $(BUILD)/vault_parts.h.committed
	$(CARGO) build -p vault_parts
	@diff -u $(BUILD)/vault_parts.h.committed include/vault_parts.h || \
		{ echo "include/vault_parts.h is stale: commit the regenerated header"; exit 1; }

# Benchmarks against nginx-served pages: see docs/benchmarks.md. Installs nginx, wrk, jq and
# Python requests when missing; builds the Python package's wheel into a venv for P1-P3.
bench: release | $(BUILD)
	sh bench/setup.sh
	$(CC) $(CFLAGS) -Iinclude -Itests-c bench/list_count.c -o $(BUILD)/list_count -L$(RELEASE) \
		-Wl,-rpath,$(CURDIR)/$(RELEASE) -lvault_parts
	$(CC) $(CFLAGS) -Iinclude bench/many_listings.c -o $(BUILD)/many_listings -L$(RELEASE) \
		-Wl,-rpath,$(CURDIR)/$(RELEASE) -lvault_parts
	$(MAKE) --no-print-directory wheel
	sh bench/py_venv.sh $(BUILD)/bench/pyvenv $(BUILD)/wheels
	PATH="$$PATH:/usr/sbin" python3 bench/run.py

# Fuzzes the page parser (FUZZ_TARGET=link: the next_page resolver) for FUZZ_SECONDS.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
FUZZ_TARGET  ?= page
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --fuzz-dir fuzz $(FUZZ_TARGET) -- -max_total_time=$(FUZZ_SECONDS)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
