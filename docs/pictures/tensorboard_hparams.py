"""Make docs/pictures/tensorboard-hparams.png: the quick start's sweep in TensorBoard's HParams dashboard.

    python docs/pictures/tensorboard_hparams.py

Runs examples/quickstart (logged without TensorBoard) in a temporary directory with this Python,
writes its TensorBoard data with `sumx quickstart --to-tensorboard`, serves it with `tensorboard` on
loopback and takes a screenshot of the HParams page in headless Chromium (Debian's `chromium` and
`chromium-driver`, through selenium: .ci/chromium.sh installs them).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = HERE / "tensorboard-hparams.png"
PAGE_TEXT = """
function text(node) {
  let out = node.shadowRoot ? text(node.shadowRoot) : "";
  for (const child of node.childNodes) out += child.nodeType === 3 ? child.textContent + " " : text(child);
  return out;
}
return text(document.body);
"""


def run(*args: str, cwd: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, *args], cwd=cwd, env=env, check=True)


def screenshot(url: str, names: list) -> bytes:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,720"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        driver.get(url)
        deadline = time.monotonic() + 120
        while not all(n in driver.execute_script(PAGE_TEXT) for n in names):
            if time.monotonic() > deadline:
                raise SystemExit("the HParams page did not show every run within 2 minutes")
            time.sleep(0.5)
        time.sleep(1)  # let the table settle
        return driver.get_screenshot_as_png()
    finally:
        driver.quit()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="runx-picture-") as tmp:
        root = Path(tmp)
        for name in ("quickstart.yml", "train.py"):
            shutil.copy(REPO / "examples" / "quickstart" / name, root / name)
        (root / ".runx").write_text("LOGROOT: logs\n")
        run("-m", "runx.runx", "quickstart.yml", "-i", cwd=root)
        run("-m", "runx.sumx", "quickstart", "--to-tensorboard", cwd=root)
        exp = root / "logs" / "quickstart"
        names = sorted(p.name for p in exp.iterdir() if p.is_dir())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(exp), "--port", str(port),
                                   "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            OUT.write_bytes(screenshot(f"http://127.0.0.1:{port}/#hparams", names))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(OUT)


if __name__ == "__main__":
    main()
