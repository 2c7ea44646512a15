"""The project's PyTorch peer: the reference DCGAN and its training step on the CPU, for timing only.

Same layers and parameter counts as src/model (checked before timing), Keras 'same' padding reproduced
(even kernels pad one more row and column at the bottom and right), Keras BatchNorm (momentum 0.8,
epsilon 1e-3), Adam(2e-4, beta1 0.5, beta2 0.999, epsilon 1e-7), and the reference step: the fake batch
in inference mode, one discriminator update on the real batch, one on the fake batch, one generator
update through the discriminator in training mode.

It prints, one fact per line, what the benches read (src/bench/peer.ts and scripts/bench.ts):
  torch VERSION, N threads
  BLAS loaded: NAME (PATH)            the BLAS library mapped into this process after a matrix product
  BLAS optimised: yes|no
  SGEMM 2048^3 BLAS|oneDNN: X GFLOP/s  this machine's fp32 matrix rate through the BLAS and oneDNN
  TRAIN step median X ms (min A, max B, N steps)
  floor: train step >= N ms           the step's FLOPs at the faster matrix rate
  INFER batch B: median M ms -> S samples/s

Run it on an optimised BLAS: Debian's python3-torch links the reference BLAS unless OpenBLAS is on the
library path (apt-get install -y python3-torch libopenblas0-openmp, then
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp).
"""

import argparse
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT = 100
BATCH = 32
# FLOPs of one training step at batch 32, counted layer by layer: per sample the generator's forward pass is
# 221.5 M multiply-adds and the discriminator's 12.2 M; a backward pass costs twice its forward. The step runs
# G forward once (predict), D forward and backward twice, then G and D forward and backward once:
# (221.5 + 2·3·12.2 + 3·221.5 + 3·12.2) M MACs · 2 FLOP · 32 samples ≈ 63.7 GFLOP.
STEP_GFLOP = 63.7
G_PARAMS, G_TRAINABLE = 1_555_329, 1_554_945
D_PARAMS, D_TRAINABLE = 694_785, 693_889


def same_pads(size, kernel, stride):
    """Keras/TF 'same' padding of one axis as (before, after): the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv(nn.Module):
    """Conv2D with Keras 'same' padding (asymmetric for even kernels)."""

    def __init__(self, cin, cout, kernel, stride, size):
        super().__init__()
        before, after = same_pads(size, kernel, stride)
        self.pads = (before, after, before, after)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        return self.conv(F.pad(x, self.pads))


def keras_batch_norm(channels):
    # Keras momentum 0.8 keeps 80 % of the old statistic; PyTorch's momentum is the new value's share.
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.2)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(LATENT, 128 * 7 * 7)
        # Stride-2 transposed 'same' with kernel 4 pads 1 on each side: 7 -> 14 -> 28.
        self.up1 = nn.ConvTranspose2d(128, 128, 4, 2, padding=1)
        self.conv1 = SameConv(128, 128, 4, 1, 14)
        self.bn1 = keras_batch_norm(128)
        self.up2 = nn.ConvTranspose2d(128, 128, 4, 2, padding=1)
        self.conv2 = SameConv(128, 64, 4, 1, 28)
        self.bn2 = keras_batch_norm(64)
        self.out = SameConv(64, 1, 7, 1, 28)

    def forward(self, z):
        # Keras reshapes channels-last; contiguous() keeps the convolutions on the fast NCHW path.
        x = self.dense(z).view(-1, 7, 7, 128).permute(0, 3, 1, 2).contiguous()
        x = F.relu(self.bn1(self.conv1(self.up1(x))))
        x = F.relu(self.bn2(self.conv2(self.up2(x))))
        return torch.tanh(self.out(x))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = SameConv(1, 32, 3, 2, 28)
        self.c2 = SameConv(32, 64, 4, 2, 14)
        self.b2 = keras_batch_norm(64)
        self.c3 = SameConv(64, 128, 4, 2, 7)
        self.b3 = keras_batch_norm(128)
        self.c4 = SameConv(128, 256, 4, 1, 4)
        self.b4 = keras_batch_norm(256)
        self.dense = nn.Linear(256 * 4 * 4, 1)

    def forward(self, x):
        drop = lambda t: F.dropout(t, 0.2, self.training)
        x = drop(F.leaky_relu(self.c1(x), 0.2))
        x = drop(F.leaky_relu(self.b2(self.c2(x)), 0.2))
        x = drop(F.leaky_relu(self.b3(self.c3(x)), 0.3))  # Keras LeakyReLU() defaults to 0.3
        x = drop(F.leaky_relu(self.b4(self.c4(x)), 0.3))
        return torch.sigmoid(self.dense(x.flatten(1)))


def counts(model):
    trainable = sum(p.numel() for p in model.parameters())
    stats = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable + stats, trainable


def check_counts(g, d):
    for name, model, want in (("generator", g, (G_PARAMS, G_TRAINABLE)), ("discriminator", d, (D_PARAMS, D_TRAINABLE))):
        got = counts(model)
        if got != want:
            raise SystemExit(f"{name} has {got[0]:,} parameters ({got[1]:,} trainable), the reference {want[0]:,} ({want[1]:,})")


def loaded_blas():
    """The BLAS library mapped into this process, resolved through symlinks, as (name, path)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    for path in sorted(paths):
        base = os.path.basename(path).lower()
        if any(key in base for key in ("blas", "mkl", "blis")):
            real = os.path.realpath(path).lower()
            for name in ("openblas", "mkl", "blis"):
                if name in real:
                    return name, path
            return "reference", path
    return "unknown", ""


def print_blas():
    name, path = loaded_blas()
    print(f"BLAS loaded: {name} ({path})")
    print(f"BLAS optimised: {'yes' if name in ('openblas', 'mkl', 'blis') else 'no'}")


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def gflops_of(product):
    """fp32 GFLOP/s of one 2048³ matrix product, best of five after a warm-up."""
    product()
    return 2 * 2048**3 / (min(timed(product, 5)) / 1000) / 1e9


def gemm_rates():
    """GFLOP/s of a matrix product through the BLAS, and through oneDNN (which runs torch's CPU
    convolutions) where torch has it."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    rates = {"BLAS": gflops_of(lambda: a @ b)}
    if torch.backends.mkldnn.is_available():
        from torch.utils import mkldnn
        linear = mkldnn.to_mkldnn(nn.Linear(2048, 2048, bias=False))
        x = a.to_mkldnn()
        with torch.no_grad():
            rates["oneDNN"] = gflops_of(lambda: linear(x))
    return rates


def train_step_fn(g, d):
    bce = nn.BCELoss()
    d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    real = torch.rand(BATCH, 1, 28, 28) * 2 - 1

    def step():
        noise = torch.randn(BATCH, LATENT)
        g.eval()
        with torch.no_grad():
            fake = g(noise)
        real_y = 1 + 0.05 * torch.randn(BATCH, 1)
        fake_y = 0.05 * torch.randn(BATCH, 1)
        d.train()
        for images, labels in ((real, real_y), (fake, fake_y)):
            d_opt.zero_grad()
            bce(d(images), labels).backward()
            d_opt.step()
        g.train()
        g_opt.zero_grad()
        bce(d(g(noise)), torch.ones(BATCH, 1)).backward()  # D's gradients are computed but not applied
        g_opt.step()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps (the median is reported)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batches", default="1,32,256", help="generator batch sizes to time")
    parser.add_argument("--check", action="store_true", help="check the parameter counts and the BLAS, time nothing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    g, d = Generator(), Discriminator()
    check_counts(g, d)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"parameters: generator {counts(g)[0]:,}, discriminator {counts(d)[0]:,}")
    if args.check:
        torch.randn(64, 64) @ torch.randn(64, 64)  # maps the BLAS library
        print_blas()
        return
    rates = gemm_rates()
    print_blas()
    for via, rate in rates.items():
        print(f"SGEMM 2048^3 {via}: {rate:.1f} GFLOP/s")
    gflops = max(rates.values())

    step = train_step_fn(g, d)
    timed(step, args.warmup)
    times = timed(step, args.steps)
    print(f"TRAIN step median {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f}, {len(times)} steps)")
    print(f"floor: train step >= {STEP_GFLOP / gflops * 1000:.0f} ms")

    g.eval()
    with torch.no_grad():
        for batch in (int(b) for b in args.batches.split(",")):
            z = torch.randn(batch, LATENT)
            runs = max(3, min(200, 2000 // batch))
            g(z)
            ms = statistics.median(timed(lambda: g(z), runs))
            print(f"INFER batch {batch}: median {ms:.2f} ms -> {batch / ms * 1000:.1f} samples/s")


if __name__ == "__main__":
    main()
