"""The stochastic-refinement sampler in PyTorch: the reference nnc's C++ sampler (models/deblur.cpp)
is tested against, fed the same noise.

  x = clip(G(y) + r, 0, 1), r sampled by F from pure noise in N steps of DDIM (eta 0) to
  DDPM-like (eta 1) updates over a log-SNR schedule spaced evenly from LOG_SNR_MIN to LOG_SNR_MAX.

With g = sigmoid(log_snr) (alpha-bar), one step from level t to the next level s:
  eps  = F(z, y, log_snr_t)
  r0   = clip((z - sqrt(1 - g_t) eps) / sqrt(g_t), -1, 1)
  eps' = (z - sqrt(g_t) r0) / sqrt(1 - g_t)
  sigma = eta * sqrt((1 - g_s) / (1 - g_t)) * sqrt(1 - g_t / g_s)
  z    = sqrt(g_s) r0 + sqrt(1 - g_s - sigma^2) eps' + sigma * n
and the last of the N steps returns r0. The noise is counter-based, so C++ and numpy draw the
same values: normal(seed, stream, k) for element k (c*H*W + y*W + x over the padded image) of
stream 0 (the starting z) or stream i + 1 (step i's n); see counter_normal below.
"""
import numpy as np
import torch

# The sampler's schedule. At log-SNR -4 the residual (pixel std about 0.05) is buried: z is
# noise to within 1e-4 of its variance, so starting there from pure noise loses nothing.
LOG_SNR_MIN = -4.0
LOG_SNR_MAX = 14.0
# Training draws log-SNR uniformly from a slightly wider range.
TRAIN_LOG_SNR_MIN = -6.0
TRAIN_LOG_SNR_MAX = 14.0
MASK64 = (1 << 64) - 1


def _splitmix64(x):
    """numpy uint64 array -> uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def counter_normal(seed, stream, count):
    """count standard normals: Box-Muller on two splitmix64 hashes of (seed, stream, k)."""
    base = (seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED69) & MASK64
    with np.errstate(over="ignore"):
        key = np.uint64(base) + np.arange(count, dtype=np.uint64)
        h1 = _splitmix64(key * np.uint64(2))
        h2 = _splitmix64(key * np.uint64(2) + np.uint64(1))
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53
    u2 = (h2 >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


def schedule(steps):
    return np.linspace(LOG_SNR_MIN, LOG_SNR_MAX, steps + 1)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@torch.no_grad()
def sample_residual(denoiser, blurry, steps, eta, seed):
    """blurry: 1x3xHxW tensor. Returns the sampled residual r0 (1x3xHxW)."""
    shape = blurry.shape
    numel = int(np.prod(shape))
    z = torch.from_numpy(counter_normal(seed, 0, numel).reshape(shape))
    levels = schedule(steps)
    for i in range(steps):
        t, s = levels[i], levels[i + 1]
        g_t, g_s = sigmoid(t), sigmoid(s)
        eps = denoiser(z, blurry, torch.tensor([t], dtype=torch.float32))
        r0 = ((z - float(np.sqrt(1 - g_t)) * eps) / float(np.sqrt(g_t))).clamp(-1, 1)
        if i == steps - 1:
            return r0
        eps = (z - float(np.sqrt(g_t)) * r0) / float(np.sqrt(1 - g_t))
        sigma = eta * np.sqrt((1 - g_s) / (1 - g_t)) * np.sqrt(1 - g_t / g_s)
        noise = torch.from_numpy(counter_normal(seed, i + 1, numel).reshape(shape))
        z = float(np.sqrt(g_s)) * r0 + float(np.sqrt(max(1 - g_s - sigma**2, 0.0))) * eps + float(sigma) * noise
    return torch.zeros(shape)


@torch.no_grad()
def deblur(predictor, denoiser, blurry, steps, eta, seed):
    base = predictor(blurry)
    if steps == 0:
        return base.clamp(0, 1)
    return (base + sample_residual(denoiser, blurry, steps, eta, seed)).clamp(0, 1)
