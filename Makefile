# saliencyd — build, run and test.
#
#   make run    builds saliencyd (release) and starts the main job on the bundled default model:
#               `saliencyd serve` with a replay of the bundled samples flowing through it, a live
#               status line and the published maps printed by `saliencyd tap` (Ctrl-C stops;
#               DURATION=20 stops after 20 s)
#   make explain  the maps of the bundled sample images as files in out/
#   make test   installs what the tests need (Debian packages) and runs every test
#
# Both install missing Debian packages with apt-get (as root, or through sudo).

SWIFT        ?= swift
CONFIG       ?= release
BIN          := .build/$(CONFIG)/saliencyd

# C libraries the code links (through pkg-config) and data the tests read.
DEB_BUILD    := pkg-config libopenblas-dev libzmq3-dev libturbojpeg0-dev libpng-dev zlib1g-dev libssl-dev
DEB_TEST     := libonnx-testdata dataset-fashion-mnist python3-venv systemd shellcheck
PYTHON       ?= python3
INTEROP_VENV ?= .venv-interop
INTEROP_BIN  ?= .build/debug/saliencyd
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-test build run explain test test-interop clean

all: build

# Installs the Debian packages in $(1) that are missing (dpkg-query is the source of truth).
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEB_BUILD))

deps-test: deps
	$(call apt_install,$(DEB_TEST))

build: deps
	$(SWIFT) build -c $(CONFIG) --product saliencyd

run: build
	tools/demo/live.sh $(BIN)

explain: build
	$(BIN) demo
	$(BIN) explain --format npy,json,png --out out models/samples/*.png
	@echo "maps written to out/ (open out/*.overlay.png); see docs/methods.md"

# OpenBLAS one thread per call, as the daemon runs it (workers.blas_threads = 1), so the
# engine's tests go through the kernels KernelSelection picks for this CPU.
test: deps-test
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test
	$(MAKE) test-interop

# Tests/Interop: the real imagezmq (PyPI) against a running `saliencyd serve`, and
# examples/subscribe.py. The venv holds the pinned requirements (Debian's python3 needs
# python3-venv for `-m venv`); it is rebuilt when the requirements change.
$(INTEROP_VENV)/.installed: Tests/Interop/requirements.txt
	rm -rf $(INTEROP_VENV)
	$(PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install --quiet --disable-pip-version-check -r Tests/Interop/requirements.txt
	touch $@

test-interop: deps-test $(INTEROP_VENV)/.installed
	$(SWIFT) build --product saliencyd
	SALIENCYD_BIN=$(INTEROP_BIN) $(INTEROP_VENV)/bin/python -m pytest Tests/Interop -q

clean:
	rm -rf .build $(INTEROP_VENV)
