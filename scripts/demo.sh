#!/usr/bin/env bash
# The main job, offline, on CPU: set up, start the recommended detector (yolo26n-shufflenetv2-slim-nms) from ImageNet
# weights, train it briefly on real photographs (african-wildlife) through the stock `yolo` CLI, and save a picture
# of its predictions on validation photos it never saw. About 10 minutes after setup on 2 CPU cores.
#   DATASETS_DIR=<folder>       holds african-wildlife/ (default ../shared/datasets)
#   IMAGENET_WEIGHTS=<file>     a torchvision ShuffleNet V2 1.0x state dict, used when torchvision's own file cannot
#                               be fetched (default ../shared/weights/shufflenetv2_x1_0-onnxzoo-imagenet.pth)
#   DEMO_EPOCHS, DEMO_FRACTION  how long to train (default 10 epochs on all the training images)
#   RUNS_DIR=<folder>           where the weights and pictures go (default runs/)
#   SKIP_SETUP=1                use .venv as it is (the test suite: setup.sh made it, and reinstalling this
#                               package while other tests run would pull it from under them)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh

datasets=$(cd "${DATASETS_DIR:-../shared/datasets}" && pwd)
runs=$(mkdir -p "${RUNS_DIR:-runs}" && cd "${RUNS_DIR:-runs}" && pwd)
model=yolo26n-shufflenetv2-slim-nms.yaml
export YOLO_OFFLINE=True YOLO_AUTOINSTALL=False YOLO_CONFIG_DIR=${YOLO_CONFIG_DIR:-$runs/yolo-config}
mkdir -p "$YOLO_CONFIG_DIR/Ultralytics" "$runs/demo-start"
# Any TTF under Ultralytics' font name spares a download attempt on every train/val.
cp "$(.venv/bin/python -c 'import matplotlib; print(matplotlib.get_data_path())')/fonts/ttf/DejaVuSans.ttf" \
  "$YOLO_CONFIG_DIR/Ultralytics/Arial.ttf"
.venv/bin/yolo settings datasets_dir="$datasets" >/dev/null

# The ImageNet start: torchvision's file (fetched once, cached in TORCH_HOME), else the offline copy, else scratch.
start=$runs/demo-start/$model.imagenet.pt
convert=(.venv/bin/python -m ultralytics_shufflenet.convert --model "$model" --out "$start")
imagenet=${IMAGENET_WEIGHTS:-../shared/weights/shufflenetv2_x1_0-onnxzoo-imagenet.pth}
if "${convert[@]}" --imagenet 2>"$runs/demo-start/fetch.log"; then
  pretrained=(pretrained="$start")
elif [ -f "$imagenet" ] && "${convert[@]}" "$imagenet"; then
  pretrained=(pretrained="$start")
else
  sed 's/^/  /' "$runs/demo-start/fetch.log"
  echo "No ImageNet weights: torchvision's file could not be fetched and IMAGENET_WEIGHTS ($imagenet) is not a" \
    "file. Training from scratch, which a short run does not get far with: expect few or no detections." >&2
  pretrained=()
fi

.venv/bin/yolo train model="$model" "${pretrained[@]}" data=african-wildlife.yaml epochs="${DEMO_EPOCHS:-10}" \
  fraction="${DEMO_FRACTION:-1.0}" imgsz=256 batch=16 workers=2 cache=ram val=False device=cpu project="$runs" \
  name=demo exist_ok=True
.venv/bin/python -m bench predictions "$runs/demo/weights/best.pt" \
  --images "$datasets/african-wildlife/images/val" --imgsz 256 --count 4 --out "$runs/demo-predictions.jpg"
echo "Trained weights: $runs/demo/weights/best.pt; predictions on 4 validation photos: $runs/demo-predictions.jpg"
