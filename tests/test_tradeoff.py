"""scripts/tradeoff.py's table from made-up rows: no model is trained or timed here."""

from __future__ import annotations

from tradeoff import column, markdown

COLUMNS = [("ncnn", 1), ("onnxruntime", 2)]


def row(model: str, start: str, maps: list[float], ms: float) -> dict:
    out = {"model": model, "start": start, "seeds": len(maps), "mAP50-95": sum(maps) / len(maps), "mAP50": 0.5}
    out |= {"mAP50-95_min": min(maps), "mAP50-95_max": max(maps), "params": 1000, "gflops": 1.0}
    for runtime, threads in COLUMNS:
        name = column(runtime, threads)
        out |= {f"{name}_ms": ms, f"{name}_min": ms, f"{name}_max": ms, f"{name}_ratio": ms / 10}
    return out


def test_rows_show_the_start_and_the_seed_spread_only_where_there_are_seeds_to_spread() -> None:
    table = [row("a.yaml@320", "scratch", [0.3, 0.4], 10.0), row("b.yaml+imagenet@320", "imagenet", [0.2], 5.0)]
    lines = markdown(table, {"imgsz": 320, "optimizer": "auto"}, "a.yaml@320", COLUMNS).splitlines()
    assert "optimizer auto;" in lines[0] and "| NCNN 1 thr | ONNX Runtime 2 thr |" in lines[2]
    assert lines[-2].startswith(
        "| a.yaml@320 | scratch | 2 | 0.350 [0.300-0.400] | 0.500 | 10.0 (1.00x) | 10.0 (1.00x) |"
    )
    assert lines[-1].startswith("| b.yaml+imagenet@320 | imagenet | 1 | 0.200 | 0.500 | 5.0 (0.50x) | 5.0 (0.50x) |")
