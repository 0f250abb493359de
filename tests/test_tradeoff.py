"""bench/tradeoff.py's table from made-up rows: no model is trained or timed here."""

from __future__ import annotations

import csv
from pathlib import Path

from bench.tradeoff import column, markdown, rows, with_measured_latency

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


def test_new_seeds_re_use_the_earlier_timing(tmp_path: Path) -> None:
    earlier = [row("a.yaml@320", "scratch", [0.3], 10.0), row("b.yaml+imagenet@320", "imagenet", [0.2], 5.0)]
    with open(tmp_path / "tradeoff.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(earlier[0]))
        writer.writeheader()
        writer.writerows(earlier)
    runs = {"a.yaml@320": [], "b.yaml+imagenet@320": []}
    for model, maps in (("a.yaml@320", [0.3, 0.5]), ("b.yaml+imagenet@320", [0.2])):
        for value in maps:
            start = "imagenet" if "+imagenet" in model else ""
            runs[model].append({"mAP50-95": value, "mAP50": 0.5, "params": 1000, "gflops": 1.0, "start": start})
    table = with_measured_latency(rows(runs, {}, "a.yaml@320", COLUMNS), tmp_path / "tradeoff.csv")
    assert table[0]["seeds"] == 2 and table[0]["mAP50-95"] == 0.4 and table[0]["ncnn_1t_ms"] == 10.0
    assert table[1]["onnxruntime_2t_ratio"] == 0.5 and table[1]["start"] == "imagenet"
