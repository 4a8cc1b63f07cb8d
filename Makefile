# The README's two commands are `make demo` and `make test`; both set themselves up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= chromium

.PHONY: setup chromium speech test test-slow lint typecheck demo bench screenshots clean

setup: $(STAMP) chromium speech

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The finance console's tests drive Debian's chromium through Playwright (Playwright's own
# browser download is not used). Installed with apt when missing and we are root (a fresh
# machine, CI); anyone else is told what to install, and only the browser tests then fail.
chromium:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "browser tests need Debian's chromium: sudo apt-get install chromium" >&2; \
	  else \
	    echo "installing Debian's chromium for the browser tests (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt_install="apt-get install -y -qq --no-install-recommends chromium"; \
	    $$apt_install >/dev/null 2>&1 || { apt-get update -qq && $$apt_install >/dev/null; }; \
	  fi; }

# The audio mode speaks through espeak-ng; its tests check the WAV files with sox. Installed
# with apt when missing and we are root, as chromium is; anyone else is told what to install.
speech:
	@command -v espeak-ng >/dev/null 2>&1 && command -v sox >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "the audio mode and its tests need espeak-ng and sox: sudo apt-get install espeak-ng sox" >&2; \
	  else \
	    echo "installing espeak-ng and sox for the audio mode (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt_install="apt-get install -y -qq --no-install-recommends espeak-ng sox"; \
	    $$apt_install >/dev/null 2>&1 || { apt-get update -qq && $$apt_install >/dev/null; }; \
	  fi; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q -n 3 -m "not slow" --durations=15

test-slow: setup
	$(BIN)/pytest -q -m slow --durations=15

demo: setup
	$(BIN)/kiosk demo

# docs/screens/: every screen in English, in Spanish and in large text, played by touches;
# each script on a fresh kiosk and hub, so every one starts from the demo's balances
SHOT_SCRIPTS = out_of_service walk_away decline offline service
SHOTS_RUN = $(BIN)/kiosk demo --config docs/screens/kiosk.toml
screenshots: setup
	rm -rf docs/screens/en docs/screens/es docs/screens/large docs/screens/gallery
	set -e; for s in $(SHOT_SCRIPTS); do \
	  $(SHOTS_RUN) --script $$s --data-dir $$(mktemp -d) --screenshots docs/screens/en; \
	  $(SHOTS_RUN) --script $$s --data-dir $$(mktemp -d) --screenshots docs/screens/es --language es; \
	  $(SHOTS_RUN) --script $$s --data-dir $$(mktemp -d) --screenshots docs/screens/large --large-text; \
	done
	# the states no script reaches: errors under their fields, a card's thank-you screen
	SDL_VIDEODRIVER=offscreen $(BIN)/python -m screens.gallery --shots docs/screens/gallery \
	  --only find_account-message --only amount-message --only receipt

bench: setup
	$(BIN)/python bench/journal.py appends
	$(BIN)/python bench/journal.py startup --quick
	$(BIN)/python bench/devices.py --quick
	$(BIN)/python bench/sync.py --quick
	$(BIN)/python bench/ui.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
