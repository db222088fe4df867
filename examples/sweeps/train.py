"""A tiny training script for the sweep examples: fits y = 3x + 1 by gradient descent, no downloads.

It takes every hyperparameter the example sweeps pass; `--seed` changes the data noise and the
initial weights, so replicas differ the way real training runs do.
"""
import argparse
import random

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--warmup", type=int, default=0, help="steps of linear learning-rate warmup")
parser.add_argument("--momentum", type=float, default=0.0)
parser.add_argument("--batch", type=int, default=16)
parser.add_argument("--solver", choices=["sgd", "momentum"], default="sgd")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--logdir", default=None)
args = parser.parse_args()

try:
    from runx.logx import logx
except ImportError:  # runx-logx not installed: print instead
    logx = None

if logx is not None:
    logx.initialize(logdir=args.logdir, hparams=vars(args))
rng = random.Random(args.seed)
data = [(x, 3 * x + 1 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(256))]
w, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
velocity_w = velocity_b = 0.0
momentum = args.momentum if args.solver == "momentum" else 0.0
step = 0
for epoch in range(args.epochs):
    for start in range(0, len(data), args.batch):
        batch = data[start:start + args.batch]
        grad_w = sum(2 * ((w * x + b) - y) * x for x, y in batch) / len(batch)
        grad_b = sum(2 * ((w * x + b) - y) for x, y in batch) / len(batch)
        step += 1
        lr = args.lr * min(1.0, step / args.warmup) if args.warmup else args.lr
        velocity_w = momentum * velocity_w + grad_w
        velocity_b = momentum * velocity_b + grad_b
        w, b = w - lr * velocity_w, b - lr * velocity_b
    loss = sum(((w * x + b) - y) ** 2 for x, y in data) / len(data)
    if logx is not None:
        logx.metric("val", {"loss": loss}, epoch=epoch)
    else:
        print(f"epoch {epoch}: loss {loss:.4f}")
