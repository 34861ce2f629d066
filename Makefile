# Kros Numbers. `make run` to use it, `make test` to test it. Both install what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test unit e2e build tools e2e-tools fmt clean

## run: install what is missing, build, migrate, seed the demo, serve on http://127.0.0.1:3000
run: build
	scripts/run.sh

## test: every test: unit and REST integration tests, then the browser tests
test: unit e2e

## unit: Rust unit tests and the REST API integration tests (real server, real database)
unit:
	cargo test --features ssr

## e2e: the Playwright suite in Debian's Chromium against the release server
e2e: build e2e-tools
	cd end2end && npx playwright test

## build: the release server and the optimized dashboard bundle
build: tools
	cargo leptos build --release

tools:
	scripts/install-tools.sh build

e2e-tools:
	scripts/install-tools.sh e2e

fmt:
	cargo fmt

clean:
	cargo clean
	rm -rf end2end/.run end2end/test-results
