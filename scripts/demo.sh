#!/usr/bin/env bash
# The main job, offline, on CPU: set up, train YOLOv8n-ShuffleNetV2 on coco8 for 2 epochs through the stock
# `yolo` CLI, then predict on the coco8 validation images. DATASETS_DIR must hold coco8/ (default ../shared/datasets).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

datasets=$(cd "${DATASETS_DIR:-../shared/datasets}" && pwd)
runs=$PWD/runs
export YOLO_OFFLINE=True YOLO_AUTOINSTALL=False YOLO_CONFIG_DIR=${YOLO_CONFIG_DIR:-$runs/yolo-config}
mkdir -p "$YOLO_CONFIG_DIR/Ultralytics"
# Any TTF under Ultralytics' font name spares a download attempt on every train/val.
cp "$(.venv/bin/python -c 'import matplotlib; print(matplotlib.get_data_path())')/fonts/ttf/DejaVuSans.ttf" \
  "$YOLO_CONFIG_DIR/Ultralytics/Arial.ttf"
.venv/bin/yolo settings datasets_dir="$datasets" >/dev/null

.venv/bin/yolo train model=yolov8n-shufflenetv2.yaml data=coco8.yaml epochs=2 imgsz=160 batch=4 workers=0 \
  device=cpu project="$runs" name=demo exist_ok=True
.venv/bin/yolo predict model="$runs/demo/weights/best.pt" source="$datasets/coco8/images/val" imgsz=160 \
  device=cpu project="$runs" name=demo-predict exist_ok=True
echo "Trained weights: $runs/demo/weights/best.pt; predictions: $runs/demo-predict"
