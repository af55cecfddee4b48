"""Fitted models are bit-for-bit those of the pinned reference commit.

The pins (``tests/pins/models.json``) hold, per BLAS kernel, thread count and
numpy version, the SHA-256 of every learned array, loss curve and output of
the models of :mod:`pinned_models`, fitted by the commit before the engine's
refactor into ``Ops``, a layer protocol and a solver registry. A refactor
must leave them unchanged. On a machine whose configuration has no pin, the
test skips and says how to record one (``python3 dev.py pins COMMIT``, with
the reference commit the pins name). The pins are numpy's: the models are
fitted on the numpy backend whatever the configuration.
"""

import json

import pytest
from pinned_models import MODELS, PINS, configuration, fingerprint

import sknets

pytestmark = pytest.mark.numerics


@pytest.fixture(autouse=True)
def _numpy_backend():
    with sknets.config_context(backend="numpy"):
        yield


def _pins():
    path = PINS / "models.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_bytes_unchanged(name):
    pins = _pins()
    config = configuration()
    if config not in pins:
        commits = sorted({entry["commit"] for entry in pins.values()})
        pytest.skip(f"no pinned models for {config!r}; record them with "
                    f"'python3 dev.py pins {commits[0] if commits else 'COMMIT'}'")
    expected = pins[config]["models"].get(name)
    if expected is None:
        pytest.skip(f"{name!r} is not pinned for {config!r}")
    assert fingerprint(name) == expected, (
        f"{name}: the fitted model differs from commit {pins[config]['commit']}'s"
    )


def test_pins_cover_every_model():
    # A model added to MODELS but never pinned would be skipped for ever.
    for config, entry in _pins().items():
        assert set(entry["models"]) == set(MODELS), config
