"""scripts/tradeoff.py's table from made-up rows: no model is trained or timed here."""

from __future__ import annotations

from tradeoff import markdown


def row(model: str, maps: list[float], ms: float) -> dict:
    out = {"model": model, "seeds": len(maps), "mAP50-95": sum(maps) / len(maps), "mAP50": 0.5, "params": 1000}
    out |= {"mAP50-95_min": min(maps), "mAP50-95_max": max(maps), "gflops": 1.0}
    for runtime in ("onnxruntime", "pytorch"):
        out |= {f"{runtime}_ms": ms, f"{runtime}_min": ms, f"{runtime}_max": ms, f"{runtime}_ratio": ms / 10}
    return out


def test_rows_show_the_seed_spread_only_where_there_are_seeds_to_spread() -> None:
    table = [row("a.yaml@320", [0.3, 0.4], 10.0), row("b.yaml@320", [0.2], 5.0)]
    lines = markdown(table, {"imgsz": 320}, threads=2, reference="a.yaml@320").splitlines()
    assert lines[-2].startswith("| a.yaml@320 | 2 | 0.350 [0.300-0.400] | 0.500 | 10.0 [10.0-10.0] (1.00x) |")
    assert lines[-1].startswith("| b.yaml@320 | 1 | 0.200 | 0.500 | 5.0 [5.0-5.0] (0.50x) |")
