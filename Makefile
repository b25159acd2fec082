# The two commands of the README: `make demo` and `make test`. Both set up what is missing.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
DEMO ?= fixtures/demo/demo.pcap

.PHONY: setup build demo test lab

setup:
	@bash scripts/setup.sh

build: setup
	cargo build --release

demo: build
	./target/release/rdpscope analyze $(DEMO) || test $$? -eq 1

test: setup
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test --all-targets

lab:
	bash lab/run.sh all
