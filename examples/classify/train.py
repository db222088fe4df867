"""A small image classifier on generated data (no download), using every logx feature.

Images are 1x16x16: a bright bar whose orientation (4 classes) the model must tell apart, with noise.
A few seconds per run on a CPU. Needs torch (`pip install runx-logx[torch,tensorboard]`).

    python -m runx.runx sweep.yml -i && python -m runx.sumx sweep
"""
import argparse

import torch
from runx.logx import logx
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--solver", choices=["sgd", "adam"], default="sgd")
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--width", type=int, default=16)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--no_bias", action="store_true", help="a boolean flag, for booleans.yml")
parser.add_argument("--logdir", default=None)
args = parser.parse_args()


def make_data(n: int, generator: torch.Generator):
    labels = torch.randint(0, 4, (n,), generator=generator)
    images = torch.randn(n, 1, 16, 16, generator=generator) * 0.5
    for i, label in enumerate(labels.tolist()):
        if label == 0:
            images[i, 0, 7:9, :] += 2.0
        elif label == 1:
            images[i, 0, :, 7:9] += 2.0
        elif label == 2:
            images[i, 0].diagonal().add_(2.0)
        else:
            images[i, 0].flip(1).diagonal().add_(2.0)
    return images, labels


torch.manual_seed(args.seed)
gen = torch.Generator().manual_seed(args.seed)
train_x, train_y = make_data(2048, gen)
val_x, val_y = make_data(512, gen)
model = nn.Sequential(nn.Conv2d(1, args.width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
                      nn.Flatten(), nn.Linear(args.width * 16, 4, bias=not args.no_bias))
optimizer = (torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9) if args.solver == "sgd"
             else torch.optim.Adam(model.parameters(), lr=args.lr))

logx.initialize(logdir=args.logdir, tensorboard=True, hparams=vars(args))
start_epoch = 0
latest = logx.latest_checkpoint()
if latest is not None:  # resume (a resubmitted run): continue from the last saved epoch, not the best one
    state, meta = logx.load_model(latest)
    model.load_state_dict(state)
    if "optimizer" in meta:
        optimizer.load_state_dict(meta["optimizer"])
    start_epoch = meta["epoch"] + 1
    logx.msg(f"resumed from {latest} (epoch {meta['epoch']})")
logx.add_image("samples/first", train_x[0], 0)

for epoch in range(start_epoch, args.epochs):
    model.train()
    for step in range(0, len(train_x), 128):
        loss = nn.functional.cross_entropy(model(train_x[step:step + 128]), train_y[step:step + 128])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        logx.metric("train", {"loss": loss.item()})
    model.eval()
    with torch.no_grad():
        logits = model(val_x)
        val_loss = nn.functional.cross_entropy(logits, val_y).item()
        accuracy = (logits.argmax(1) == val_y).float().mean().item() * 100
    logx.metric("val", {"loss": val_loss, "accuracy": accuracy}, epoch)
    logx.add_scalar("lr", optimizer.param_groups[0]["lr"], epoch)
    is_best = logx.save_model({"epoch": epoch, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict()},
                             metric=accuracy, epoch=epoch, higher_better=True)
    logx.msg(f"epoch {epoch}: val loss {val_loss:.3f} accuracy {accuracy:.1f}%{' (best)' if is_best else ''}")
logx.close()
