#!/usr/bin/env python3
"""The Fashion-MNIST CNN of examples/FashionMnistCnn.java in PyTorch, as the peer of its figures.

Same data (Debian's dataset-fashion-mnist, scaled to [0, 1]), same model (Conv2D(32, 3x3, relu),
MaxPooling2D, Conv2D(64, 3x3, relu), MaxPooling2D, Flatten, Dense(128, relu), Dropout(0.3),
Dense(10)), Keras's initialisation (Glorot-uniform kernels, zero biases), Keras's Adam defaults
(learning rate 1e-3, epsilon 1e-7), batches of 128 reshuffled every epoch, mean sparse softmax
cross-entropy. Prints per epoch: train loss and accuracy, test accuracy, seconds, ms per step.

Not part of CI (Debian's python3-torch pulls about 230 packages). Usage:
    /usr/bin/python3 scripts/bench/fashion_mnist_torch.py [--epochs 5] [--threads 2] [--seed 1] [--lr 0.001]
        [--json FILE]
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(kind):
    prefix = "train" if kind == "train" else "t10k"
    x = idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    y = idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)  # NCHW for PyTorch


def model():
    m = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    for layer in m:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)  # Keras's glorot_uniform: same fans
            nn.init.zeros_(layer.bias)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    xtr, ytr = load("train")
    xte, yte = load("test")
    m = model()
    opt = torch.optim.Adam(m.parameters(), lr=a.lr, eps=1e-7)
    lossf = nn.CrossEntropyLoss()
    epochs = []
    for e in range(a.epochs):
        m.train()
        perm = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        total, correct, loss_sum, steps = 0, 0, 0.0, 0
        for i in range(0, len(xtr), a.batch):
            idx_ = perm[i:i + a.batch]
            xb, yb = xtr[idx_], ytr[idx_]
            opt.zero_grad()
            logits = m(xb)
            loss = lossf(logits, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            total += len(yb)
            steps += 1
        seconds = time.perf_counter() - t0
        m.eval()
        with torch.no_grad():
            test_acc = sum((m(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                           for i in range(0, len(xte), 1000)) / len(xte)
        row = {"epoch": e + 1, "loss": loss_sum / total, "accuracy": correct / total, "test_accuracy": test_acc,
               "seconds": seconds, "ms_per_step": 1000 * seconds / steps}
        epochs.append(row)
        print(f"epoch {e + 1}/{a.epochs}: loss {row['loss']:.4f}, accuracy {row['accuracy']:.4f}, "
              f"test accuracy {test_acc:.4f}; {seconds:.1f} s ({row['ms_per_step']:.0f} ms a step)", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": a.threads, "lr": a.lr, "epochs": epochs}, f, indent=1)


if __name__ == "__main__":
    main()
