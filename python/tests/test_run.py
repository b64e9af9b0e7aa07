"""lpmc.run against `lpmc run`: the same config and seed give the same result.json (all but
the timings and the process's memory) and the same kept samples as samples.csv."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import lpmc
from conftest import cli_error

SGHMC = {
    "target": "paper-mixture",
    "sampler": {"sghmc": {"variant": "lp-l", "eta": 0.1, "u": 1.0, "gamma": 3.0}},
    "format": {"wl": 8, "fl": 4},
    "rounding": "sr:8",
    "chains": 24, "steps": 300, "burn_in": 100, "thin": 2, "seed": 4,
}
SGLD_INT = {
    "target": {"gaussian": {"mean": [0.5, -1.0], "var": [1.0, 0.25]}},
    "sampler": {"sgld": {"variant": "vc-l", "eta": 0.05}},
    "format": {"wl": 10, "fl": 6},
    "datapath": "integer",
    "noise_gen": "clt:4:8",
    "chains": 16, "steps": 200, "burn_in": 50, "seed": 2,
}
# Differ between two runs of the same config: wall time, rate, the process's peak memory.
TIMING = {("metrics", "wall_s"), ("metrics", "steps_per_s"), ("memory", "peak_resident")}


def strip(result):
    r = {k: v for k, v in result.items() if k not in ("samples", "sample_chains")}
    for a, b in TIMING:
        r[a] = {k: v for k, v in r[a].items() if k != b}
    return r


def cli_run(cli, tmp_path, config, *extra):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "out"
    code, _, err = cli("run", path, "--out", out, *extra)
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    rows = [line.split(",") for line in (out / "samples.csv").read_text().splitlines()[1:]]
    return result, rows


@pytest.mark.parametrize("config", [SGHMC, SGLD_INT], ids=["sghmc-float", "sgld-integer-2d"])
def test_run_equals_cli_result_json(cli, tmp_path, config):
    want, rows = cli_run(cli, tmp_path, config, "--seed", 11)
    got = lpmc.run(config, seed=11)
    assert strip(got) == strip(want)
    assert got["seed"] == 11 and got["metrics"]["kept_samples"] > 0
    samples = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_array_equal(got["samples"], samples)
    np.testing.assert_array_equal(got["sample_chains"], [int(r[0]) for r in rows])
    assert got["samples"].shape == (got["sample_rows"], len(got["metrics"]["mean"]))


def test_run_from_a_toml_path_and_threads_do_not_matter(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(textwrap.dedent("""
        target = "paper-mixture"
        chains = 8
        steps = 50
        burn_in = 10
        seed = 3
        [sampler.sgld]
        variant = "vc-l"
        eta = 0.1
    """))
    a = lpmc.run(path, threads=1)
    b = lpmc.run(str(path), threads=2)
    assert a["metrics"]["kept_samples"] == 8 * 40
    # The memory estimate counts per-thread buffers; everything else is the same.
    assert a["memory"]["estimate"] < b["memory"]["estimate"]
    a2, b2 = strip(a), strip(b)
    del a2["memory"]["estimate"], b2["memory"]["estimate"]
    assert a2 == b2
    np.testing.assert_array_equal(a["samples"], b["samples"])
    c = lpmc.run(path, seed=4)
    assert not np.array_equal(a["samples"], c["samples"])


@pytest.mark.parametrize("change", [
    {"chains": 0}, {"steps": 0}, {"burn_in": 300}, {"format": {"wl": 1, "fl": 0}},
    {"rounding": "sr:40"}, {"sampler": {"sgld": {"variant": "vc-l", "eta": -1.0}}},
])
def test_bad_configs_raise_the_cli_message(cli, tmp_path, change):
    config = {**SGHMC, **change}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    want = cli_error(cli, "run", path, "--out", tmp_path / "out")
    with pytest.raises(ValueError) as e:
        lpmc.run(config)
    # A file's parse errors start with its path, a dict's with "config".
    assert str(e.value) == want or str(e.value) == want.replace(str(path), "config")
    assert not (tmp_path / "out" / "result.json").exists()


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown field `chainz`"):
        lpmc.run({**SGHMC, "chainz": 3})
    with pytest.raises(ValueError, match="--threads = 0 is invalid"):
        lpmc.run(SGHMC, threads=0)
    with pytest.raises(ValueError, match="seed = -2 is invalid"):
        lpmc.run(SGHMC, seed=-2)
    with pytest.raises(ValueError, match="expected a dict or a path"):
        lpmc.run(42)
    with pytest.raises(ValueError, match="No such file"):
        lpmc.run("/nonexistent/config.json")


def test_ctrl_c_stops_a_long_run():
    # 10^5 chains x 10^5 steps (~10^10 chain-steps, minutes of work): SIGINT after the run has
    # started must end it with KeyboardInterrupt within a second or two.
    code = textwrap.dedent("""
        import sys, lpmc
        print("start", flush=True)
        try:
            lpmc.run({"target": "paper-mixture",
                      "sampler": {"sgld": {"variant": "lp-l", "eta": 0.1}},
                      "chains": 100000, "steps": 100000, "burn_in": 10, "max_sample_rows": 1000})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished", flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "start"
    time.sleep(1.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    assert out.strip() == "interrupted"
    assert time.monotonic() - t0 < 5
    assert p.returncode == 0
