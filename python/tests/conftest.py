"""Shared fixtures: the lpmc CLI binary the Python results are compared with.

.ci/run exports LPMC (the binary `cargo test` built); without it the tests look for
target/debug/lpmc under CARGO_TARGET_DIR or the repository, and fail if there is none:
the comparisons with the CLI are the point of these tests.
"""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _find_cli():
    if os.environ.get("LPMC"):
        return os.environ["LPMC"]
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    for profile in ("debug", "release"):
        p = pathlib.Path(target) / profile / "lpmc"
        if p.exists():
            return str(p)
    raise RuntimeError("set LPMC to the lpmc binary (cargo build) to run the CLI comparisons")


@pytest.fixture(scope="session")
def cli():
    """Runs the lpmc binary; returns (exit code, stdout, stderr)."""
    exe = _find_cli()

    def call(*args):
        p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    return call


@pytest.fixture(scope="session")
def cli_json(cli):
    """Runs the lpmc binary and parses its JSON stdout (asserting success)."""

    def call(*args):
        code, out, err = cli(*args)
        assert code == 0, err
        return json.loads(out)

    return call


def cli_error(cli, *args):
    """The CLI's one `error:` line for bad arguments, without the prefix (exit code 2)."""
    code, _, err = cli(*args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0][len("error: "):]
