# libvault_parts: `make demo` and `make test` are the two commands a fresh machine needs.

CARGO  ?= cargo
CC     ?= cc
BUILD  := build
DEBUG  := target/debug
CFLAGS ?= -std=c99 -Wall -Wextra -Wpedantic -Werror -O2

.PHONY: all lib demo test lint check-header fuzz clean

all: lib

lib:
	$(CARGO) build --workspace

$(BUILD)/list_parts: examples/list_parts.c include/vault_parts.h lib | $(BUILD)
	$(CC) $(CFLAGS) -Iinclude $< -o $@ -L$(DEBUG) -Wl,-rpath,$(CURDIR)/$(DEBUG) -lvault_parts

$(BUILD):
	mkdir -p $@

# Builds, starts vault-sim with a 7-part demo session, lists it 3 parts a page, stops vault-sim.
demo: $(BUILD)/list_parts
	@rm -f $(BUILD)/sim.url
	@$(DEBUG)/vault-sim --port 0 --url-file $(BUILD)/sim.url \
		--user demo-session-id:alice --upload 3f9c2e71demo:alice:7:5242880:1048576 >/dev/null & \
	sim=$$!; trap 'kill $$sim 2>/dev/null' EXIT; \
	for i in $$(seq 100); do [ -s $(BUILD)/sim.url ] && break; sleep 0.05; done; \
	echo "vault-sim at $$(cat $(BUILD)/sim.url); listing upload session 3f9c2e71demo, 3 parts a page:"; \
	VAULT_URL=$$(cat $(BUILD)/sim.url) VAULT_SESSION_ID=demo-session-id \
		$(BUILD)/list_parts --limit 3 --verbose 3f9c2e71demo 2>&1 | grep -v ' debug: '

# Everything CI runs.
test: lint check-header
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The committed header must be what cbindgen generates from the sources.
check-header: | $(BUILD)
	cp include/vault_parts.h $(BUILD)/vault_parts.h.committed
	$(CARGO) build -p vault_parts
	@diff -u $(BUILD)/vault_parts.h.committed include/vault_parts.h || \
		{ echo "include/vault_parts.h is stale: commit the regenerated header"; exit 1; }

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
