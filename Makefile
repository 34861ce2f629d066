# Kros Numbers. `make run` to use it, `make test` to test it. Both install what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run sip test unit e2e build tools e2e-tools fmt clean bench

## run: install what is missing, build, migrate, seed the demo, serve on http://127.0.0.1:3000
run: build
	scripts/run.sh

## sip: Kamailio in front of the server `make run` serves (start that first, in another
## terminal); prints the SIP address, the realm and a demo number's credentials for a softphone
sip:
	scripts/sip-demo.sh

## test: the lint gates, then every test: unit and REST integration tests (SQLite, then
## PostgreSQL with the scale-out and fault tests), the OpenAPI document against the wire, then
## the browser tests (SQLite, then PostgreSQL)
## (the build tools the browser tests need are built meanwhile, in the background: see
## scripts/tools-in-background.sh)
test:
	scripts/tools-in-background.sh $(MAKE) --no-print-directory test-stages

.PHONY: test-stages
test-stages: lint sqlx-check unit openapi test-postgres e2e e2e-postgres

## lint: the gates: formatting (rustfmt.toml), then clippy with warnings as errors on every crate
## of the workspace with its tests (the server), and on the browser bundle
.PHONY: lint
lint:
	scripts/install-tools.sh target
	cargo fmt --check
	cargo clippy --workspace --all-targets --features ssr -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings

## sqlx-check: the committed offline data of the compile-time checked queries (each backend
## crate's .sqlx/) still matches the statements and the migrations, checked against throw-away
## databases of both kinds; sqlx-prepare regenerates it
.PHONY: sqlx-check sqlx-prepare
sqlx-check:
	scripts/sqlx-prepare.sh check
sqlx-prepare:
	scripts/sqlx-prepare.sh

## unit: Rust unit tests and the REST API integration tests (real server, real database), then
## the SQLite fault tests that need root, and the calls through a real Kamailio with SIPp peers
## (both ignored in a plain `cargo test`: they fail without root, or without Kamailio and SIPp)
unit:
	scripts/install-tools.sh sip
	cargo test --workspace --features ssr
	cargo test --features ssr --test storage_faults -- --ignored sqlite_
	cargo test --features ssr --test api -- --ignored sip_calls

## openapi: a client generated from the served document drives the whole flow, then Schemathesis
## fuzzes every route with all its checks (tools pinned, installed into .tools/openapi-venv)
.PHONY: openapi
openapi:
	tests/openapi/run.sh

## test-postgres: on a throw-away PostgreSQL cluster (installed if missing, stopped afterwards):
## the REST suite, the two-process race tests and the database fault test
.PHONY: test-postgres e2e-postgres
test-postgres:
	scripts/test-postgres.sh rust

## e2e-postgres: the Playwright suite against the server on a throw-away PostgreSQL
e2e-postgres: e2e-build e2e-tools
	E2E_BIN=$(CURDIR)/$(E2E_BIN) scripts/test-postgres.sh e2e

## e2e: the Playwright suite in Debian's Chromium against the server: the dev-profile build that
## `cargo test` makes (no second, optimized compile of the whole server), serving the dashboard
## bundle exactly as released (size-optimized, split, wasm-opt'd, compressed)
E2E_BIN := target/debug/kros-numbers
e2e: e2e-build e2e-tools
	cd end2end && E2E_BIN=$(CURDIR)/$(E2E_BIN) npx playwright test

.PHONY: e2e-build
e2e-build:
	scripts/build.sh bundle
	cargo build --features ssr --bin kros-numbers

## bench: build the release app, load it on 127.0.0.1 with wrk, write BENCHMARKS.md
## (SQLite; `make bench DB=postgres` for PostgreSQL). Not part of `make test`.
DB ?= sqlite
bench:
	DB=$(DB) bench/run.sh

## build: the release server and the optimized dashboard bundle
build:
	scripts/build.sh

tools:
	scripts/install-tools.sh build

e2e-tools:
	scripts/install-tools.sh e2e

fmt:
	cargo fmt

clean:
	cargo clean
	rm -rf end2end/.run end2end/test-results
