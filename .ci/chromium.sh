#!/usr/bin/env bash
# Headless Chromium and its WebDriver from Debian's packages, for the browser tests
# (tests/browser.py: sumx --html, TensorBoard's HParams page). Idempotent: a no-op when installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then
    echo "chromium: $(chromium --version 2>/dev/null || echo installed), chromedriver at /usr/bin/chromedriver"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "chromium: $(chromium --version 2>/dev/null), chromedriver at /usr/bin/chromedriver"
