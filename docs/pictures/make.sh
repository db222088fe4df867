#!/usr/bin/env bash
# Regenerates the pictures in docs/pictures from the example sweep examples/sweeps/pictures.yml:
#   bash docs/pictures/make.sh        (needs runx installed with runx-sumx[plot], e.g. the dev venv)
# It runs the sweep locally in a temporary LOGROOT, then draws with sumx's own commands; last,
# docs/pictures/tensorboard_hparams.py makes tensorboard-hparams.png (the quick start in TensorBoard's HParams tab).
# The search picture (search_best_so_far.png) takes minutes of trials and is made apart, see docs/search.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$repo"/examples/sweeps/train.py "$repo"/examples/sweeps/pictures.yml "$work"/
cd "$work"
printf 'LOGROOT: %s/logs\n' "$work" > .runx
"$python" -m runx.runx pictures.yml -i -j 2 > /dev/null
"$python" -m runx.sumx pictures --trend > "$here/trend.txt"
"$python" -m runx.sumx pictures --plot loss -o "$here/curves.png"
"$python" -m runx.sumx pictures --plot-hparams loss -o "$here/hparams.png"
"$python" -m runx.sumx pictures --html "$here/report.html"
# The page names the temporary folder in the command it shows; keep the one a reader would type.
sed -i "s#$work/##g; s#$here/##g" "$here/report.html"
"$python" - "$here" <<'PY'
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

out = Path(sys.argv[1])
options = webdriver.ChromeOptions()
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
    options.add_argument(arg)
driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
try:
    driver.get((out / "report.html").as_uri())
    driver.save_screenshot(str(out / "report.png"))
finally:
    driver.quit()
PY
"$python" "$here/tensorboard_hparams.py"
echo "docs/pictures: trend.txt curves.png hparams.png report.html report.png tensorboard-hparams.png"
