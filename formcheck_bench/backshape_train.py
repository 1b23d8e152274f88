"""Training step of the back-shape model, run in the generator's environment (.venv-render has
torch; the app's environment does not need it): `formcheck_bench/backshape.py` writes the frames,
calls this, and builds the ONNX model from the weights it returns.

    .venv-render/bin/python -m formcheck_bench.backshape_train frames.npz weights.npz

frames.npz: X (N, 55) features (formcheck.backshape.features), Y (N, 2) lumbar and thoracic
flexion, body (N,) an integer per body, ref (N,) whether the frame's clip had an upright
reference. For every body, and for all bodies together (key "all"), it trains two small
networks: one on the clips with a reference, reading every feature, and one on every clip,
blind to the reference columns. weights.npz holds, per fit and net, the input mean and SD and
the two layers.
"""
from __future__ import annotations

import sys

import numpy as np

from formcheck.backshape import REF_COLS

HIDDEN = 32        # one tanh layer: a linear map missed half the lumbar flexion (slope 0.5)
EPOCHS = 200
WEIGHT_DECAY = 1e-3
LR = 3e-3
BATCH = 256


def train(X: np.ndarray, Y: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """One network X[:, 1:] -> Y (column 0 of X is the constant 1). Deterministic (seeded, one thread)."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    Xi = X[:, 1:]
    mu, sd = Xi.mean(axis=0), Xi.std(axis=0) + 1e-9
    Z = torch.tensor((Xi - mu) / sd, dtype=torch.float32)
    T = torch.tensor(Y, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(Z.shape[1], HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, Y.shape[1]))
    opt = torch.optim.Adam(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    g = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        perm = torch.randperm(len(Z), generator=g)
        for k in range(0, len(Z), BATCH):
            idx = perm[k:k + BATCH]
            opt.zero_grad()
            # Huber: a mask frame gone wrong must not pull the fit like a squared error would
            loss = torch.nn.functional.smooth_l1_loss(net(Z[idx]), T[idx], beta=2.0)
            loss.backward()
            opt.step()
    l1, l2 = net[0], net[2]
    return dict(mu=mu, sd=sd, W1=l1.weight.detach().numpy().T.copy(), b1=l1.bias.detach().numpy().copy(),
                W2=l2.weight.detach().numpy().T.copy(), b2=l2.bias.detach().numpy().copy())


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    d = np.load(src)
    X, Y, body, ref = d["X"], d["Y"], d["body"], d["ref"].astype(bool)
    blind = X.copy()
    blind[:, REF_COLS] = 0.0
    out = {}
    for fold in [int(b) for b in np.unique(body)] + [-1]:
        keep = body != fold
        name = "all" if fold < 0 else str(fold)
        for net, rows, Xs in (("ref", keep & ref, X), ("noref", keep, blind)):
            w = train(Xs[rows], Y[rows])
            # the blind net reads the reference columns with zero weight, whatever is in them
            if net == "noref":
                w["W1"][REF_COLS.start - 1:REF_COLS.stop - 1] = 0.0
                w["mu"][REF_COLS.start - 1:REF_COLS.stop - 1] = 0.0
                w["sd"][REF_COLS.start - 1:REF_COLS.stop - 1] = 1.0
            for k, v in w.items():
                out[f"{name}/{net}/{k}"] = v
        print(f"trained {name}", flush=True)
    np.savez(dst, **out)


if __name__ == "__main__":
    main()
