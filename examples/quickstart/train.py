"""A tiny training script for the quick start: fits y = 3x + 1 by gradient descent, no downloads.

It takes the hyperparameters runx passes (--lr, --solver, --epochs, --logdir) and, when runx-logx
is installed, logs metrics with it so `python -m runx.sumx quickstart` can summarise the sweep.
"""
import argparse
import math
import random

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--solver", choices=["sgd", "momentum"], default="sgd")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--logdir", default=None)
args = parser.parse_args()

try:
    from runx.logx import logx
except ImportError:  # runx-logx not installed: print instead
    logx = None

if logx is not None:
    logx.initialize(logdir=args.logdir, hparams=vars(args))
rng = random.Random(0)
data = [(x, 3 * x + 1 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(256))]
w = b = velocity_w = velocity_b = 0.0
for epoch in range(args.epochs):
    for x, y in data:
        err = (w * x + b) - y
        grad_w, grad_b = 2 * err * x, 2 * err
        if args.solver == "momentum":
            velocity_w = 0.9 * velocity_w + grad_w
            velocity_b = 0.9 * velocity_b + grad_b
            grad_w, grad_b = velocity_w, velocity_b
        w -= args.lr * grad_w
        b -= args.lr * grad_b
    loss = sum(((w * x + b) - y) ** 2 for x, y in data) / len(data)
    if logx is not None:
        logx.metric("train", {"loss": loss}, epoch)
        logx.metric("val", {"loss": loss, "w_error": abs(w - 3)}, epoch)
    else:
        print(f"epoch {epoch} loss {loss:.4f}")
if logx is not None:
    logx.msg(f"done: w={w:.3f} b={b:.3f} loss={loss:.4f}")
else:
    print(f"done: w={w:.3f} b={b:.3f} loss={loss:.4f} ({'ok' if math.isfinite(loss) else 'diverged'})")
