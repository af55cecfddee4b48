# Thin aliases of dev.py, which does its own set-up (virtual environment).
.PHONY: demo test lint
demo:
	python3 dev.py demo
test:
	python3 dev.py test
lint:
	python3 dev.py lint
