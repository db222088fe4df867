"""kill -9 at random moments inside save_model: afterwards a loadable latest and best exist and logx resumes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from runx_testing import require

TRIALS = int(os.environ.get("RUNX_KILL_TRIALS", "50"))

# One process imports torch once, then forks a saver per trial and SIGKILLs it at a random moment.
STRESS = textwrap.dedent("""
    import json, os, random, signal, sys, time
    import torch
    from runx.logx import LogX
    root, trials = sys.argv[1], int(sys.argv[2])
    rng = random.Random(1234)
    results = []
    for trial in range(trials):
        logdir = os.path.join(root, f"t{trial}")
        pid = os.fork()
        if pid == 0:
            log = LogX()
            log.initialize(logdir=logdir)
            epoch = 0
            while True:
                big = {"state_dict": {"w": torch.randn(256, 256)}, "epoch": epoch}
                log.save_model(big, metric=float(epoch % 7), epoch=epoch)
                epoch += 1
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        log = LogX()
        log.initialize(logdir=logdir)
        last, best = log.save_ckpt_fn, log.get_best_checkpoint()
        ok = bool(last) and bool(best)
        if ok:
            s1, m1 = log.load_model(last)
            s2, m2 = log.load_model(best)
            ok = s1["w"].shape == (256, 256) and m2["__metric"] == log.best_metric
        stray = [n for n in os.listdir(logdir) if n.endswith(".tmp")]
        results.append({"ok": ok, "stray": stray, "last": last, "best": best})
        log.close()
    print(json.dumps(results))
""")


def test_kill_9_inside_save_model(tmp_path):
    require("torch")
    done = subprocess.run([sys.executable, "-c", STRESS, str(tmp_path), str(TRIALS)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == TRIALS
    bad = [r for r in results if not r["ok"] or r["stray"]]
    assert not bad, bad[:3]
