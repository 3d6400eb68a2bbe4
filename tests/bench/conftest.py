"""Smoke tests of bench/: each script run as a subprocess at the least size its options allow."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "bench: runs a bench/ script as a subprocess at toy size (seconds each; they run in `make test`, "
                   "-m 'not bench' leaves them out)")
