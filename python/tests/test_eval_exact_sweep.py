"""lpmc.eval, lpmc.exact and lpmc.sweep against `lpmc eval`, `lpmc exact`, `lpmc sweep`."""

import json

import numpy as np
import pytest

import lpmc
from conftest import cli_error

EXACT = {
    "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
    "sampler": {"sgld": {"variant": "lp-l", "eta": 0.1}},
    "format": {"wl": 6, "fl": 3},
    "rounding": "sr",
}


def test_eval_equals_cli(cli_json, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 1))
    chains = np.repeat(np.arange(6), 100)
    path = tmp_path / "s.csv"
    path.write_text("chain,x0\n" + "".join(f"{int(c)},{float(v)!r}\n" for c, v in zip(chains, x[:, 0])))
    want = cli_json("eval", "--samples", path, "--target", "paper-mixture", "--seed", 3)
    got = lpmc.eval(x, "paper-mixture", chains=chains, seed=3)
    assert got == want
    assert got["w2"] > 0
    # Two dimensions, an inline target as a dict, no labels (contiguous blocks).
    y = rng.normal(size=(300, 2))
    path2 = tmp_path / "s2.csv"
    path2.write_text("".join(f"{float(a)!r},{float(b)!r}\n" for a, b in y))
    target = {"gaussian": {"mean": [0.0, 0.0], "var": [1.0, 1.0]}}
    want = cli_json("eval", "--samples", path2, "--target", json.dumps(target), "--bootstrap", 5)
    assert lpmc.eval(y, target, bootstrap=5) == want


def test_eval_bad_input(cli, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("1.0\n2.0\n")
    want = cli_error(cli, "eval", "--samples", path, "--target", "paper-mixture", "--slices", 0)
    with pytest.raises(ValueError) as e:
        lpmc.eval([1.0, 2.0], "paper-mixture", slices=0)
    assert str(e.value) == want
    with pytest.raises(ValueError, match="samples must be finite"):
        lpmc.eval([1.0, float("nan")], "paper-mixture")
    with pytest.raises(ValueError, match="target has dimension 1"):
        lpmc.eval(np.zeros((4, 2)), "paper-mixture")
    with pytest.raises(ValueError, match="neither inline JSON nor an existing file"):
        lpmc.eval([1.0], "no such target!")


def test_exact_equals_cli(cli, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(EXACT))
    code, _, err = cli("exact", path, "--out", tmp_path / "out")
    assert code == 0, err
    want = json.loads((tmp_path / "out" / "exact.json").read_text())
    got = lpmc.exact(EXACT)
    for r in (got, want):
        for k in ("build_s", "solve_s"):
            r["metrics"].pop(k, None)
    values, probability = got.pop("values"), got.pop("probability")
    assert got == want
    table = np.loadtxt(tmp_path / "out" / "stationary.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(values, table[:, 1])
    np.testing.assert_allclose(probability, table[:, 2], rtol=1e-15, atol=0)
    assert abs(probability.sum() - 1) < 1e-12


def test_exact_bad_input(cli, tmp_path):
    bad = {**EXACT, "target": {"gaussian": {"mean": [0.0, 0.0], "var": [1.0, 1.0]}}}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(bad))
    want = cli_error(cli, "exact", path, "--out", tmp_path / "out")
    with pytest.raises(ValueError) as e:
        lpmc.exact(bad)
    assert str(e.value) == want


GRID = {
    "base": {**EXACT, "chains": 8, "steps": 100, "burn_in": 20},
    "vary": {"format.fl": [2, 3]},
    "seed": 5,
}


def test_sweep_equals_cli(cli, tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(GRID))
    code, _, err = cli("sweep", path, "--out", tmp_path / "out")
    assert code == 0, err
    want = [json.loads(l) for l in (tmp_path / "out" / "points.jsonl").read_text().splitlines() if l]
    got = lpmc.sweep(path, out=tmp_path / "py")
    rows = got.to_dict("records") if hasattr(got, "to_dict") else got
    assert [r["key"] for r in rows] == ["format.fl=2", "format.fl=3"]
    untimed = lambda rows: [{k: v for k, v in r.items() if k not in ("wall_s", "steps_per_s")} for r in rows]
    if not hasattr(got, "to_dict"):
        assert untimed(rows) == untimed(want)
    else:  # pandas turns null into NaN: compare the numbers that are set
        for r, w in zip(rows, want):
            assert r["error"] == w["error"] and r["seed"] == w["seed"] and r["cost"] == w["cost"]
    assert (tmp_path / "py" / "points.csv").exists()
    # The same grid as a dict, in a temporary directory.
    rows2 = lpmc.sweep(GRID)
    rows2 = rows2.to_dict("records") if hasattr(rows2, "to_dict") else rows2
    assert [r["error"] for r in rows2] == [r["error"] for r in want]


def test_sweep_bad_input(cli, tmp_path):
    bad = {**GRID, "vary": {"format.fl": []}}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(bad))
    want = cli_error(cli, "sweep", path, "--out", tmp_path / "out")
    with pytest.raises(ValueError) as e:
        lpmc.sweep(bad)
    assert str(e.value) == want.replace(f"{path}: ", "")
    with pytest.raises(ValueError, match="expected a dict or a path"):
        lpmc.sweep(3)


def test_ctrl_c_stops_a_sweep(tmp_path):
    # 400 points of 2e6 chain-steps each (tens of seconds in all): after SIGINT no new point
    # starts, so KeyboardInterrupt arrives once the running points finish (well under 5 s).
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    code = textwrap.dedent(f"""
        import sys, lpmc
        grid = {{"base": {{"target": "paper-mixture", "sampler": {{"sgld": {{"variant": "lp-l", "eta": 0.1}}}},
                           "chains": 1000, "steps": 2000, "burn_in": 1000, "max_sample_rows": 1000}},
                 "vary": {{"sampler.sgld.eta": [0.05 + i * 1e-4 for i in range(400)]}},
                 "seed": 1}}
        print("start", flush=True)
        try:
            lpmc.sweep(grid, out={str(tmp_path / 'out')!r})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished", flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "start"
    time.sleep(2.0)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert out.strip() == "interrupted"
    assert time.monotonic() - t0 < 5
    finished = list((tmp_path / "out" / "points").glob("*.json"))
    assert 0 < len(finished) < 400
