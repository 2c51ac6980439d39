"""PyTorch modules whose ONNX exports and outputs are nnc's golden references.

Written for nnc from architecture descriptions (shared/MODELS.md); run with Debian's
/usr/bin/python3 (torch 1.13). Nothing here imports nnc: these are the judge, not the defendant.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------
# cnn: a small CNN that touches the awkward corners of Conv/Pool/Resize shape rules.
class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.pool = nn.MaxPool2d(2, ceil_mode=True)  # 33x47 -> 17x24: ceil on odd sizes
        self.dilated = nn.Conv2d(16, 24, 3, padding=2, dilation=2)
        self.strided = nn.Conv2d(24, 32, 3, stride=2, padding=1)  # 17x24 -> 9x12
        self.head = nn.Conv2d(32 + 16, 1, 1)

    def forward(self, x):
        skip = self.stem(x)  # 16 x 33 x 47
        y = F.relu(self.dilated(self.pool(skip)))
        y = F.relu(self.strided(y))  # 32 x 9 x 12
        y = F.interpolate(y, scale_factor=4.0, mode="bilinear", align_corners=False)  # 36 x 48
        y = y[:, :, : skip.shape[2], : skip.shape[3]]  # crop back to the skip's 33 x 47
        return torch.sigmoid(self.head(torch.cat([y, skip], dim=1)))


# ---------------------------------------------------------------------------------------------
# transformer: one pre-LayerNorm encoder block, attention spelled out op by op.
class EncoderBlock(nn.Module):
    def __init__(self, d_model=64, heads=4, mlp_ratio=4):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, mlp_ratio * d_model)
        self.fc2 = nn.Linear(mlp_ratio * d_model, d_model)

    def attention(self, x):
        b, s, d = x.shape
        dh = d // self.heads
        q, k, v = self.qkv(x).reshape(b, s, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        out = torch.matmul(torch.softmax(scores, dim=-1), v)  # b, heads, s, dh
        return self.proj(out.transpose(1, 2).reshape(b, s, d))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


# ---------------------------------------------------------------------------------------------
# resblock: the residual block of a diffusion U-Net (GroupNorm, SiLU, conv, skip), as the
# deblurring model's denoiser uses it.
class DiffusionResBlock(nn.Module):
    def __init__(self, channels=32, groups=8):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return x + h


# ---------------------------------------------------------------------------------------------
# U2NETP (Qin et al. 2020, "U^2-Net"): nested U-blocks (RSU), the 4.7 MB configuration.
class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def upsample_to(x, reference):
    return F.interpolate(x, size=reference.shape[2:], mode="bilinear", align_corners=False)


class RSU(nn.Module):
    """RSU-L: an encoder-decoder U inside one block, plus a residual from its input conv."""

    def __init__(self, levels, cin, mid, cout):
        super().__init__()
        self.entry = ConvBnRelu(cin, cout)
        self.encoders = nn.ModuleList([ConvBnRelu(cout, mid)] + [ConvBnRelu(mid, mid) for _ in range(levels - 2)])
        self.bottom = ConvBnRelu(mid, mid, dilation=2)
        self.decoders = nn.ModuleList([ConvBnRelu(2 * mid, mid) for _ in range(levels - 2)] + [ConvBnRelu(2 * mid, cout)])

    def forward(self, x):
        xin = self.entry(x)
        skips = []
        h = xin
        for i, encoder in enumerate(self.encoders):
            if i > 0:
                h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
            h = encoder(h)
            skips.append(h)
        h = self.bottom(h)
        for decoder, skip in zip(self.decoders, reversed(skips)):
            if h.shape[2:] != skip.shape[2:]:
                h = upsample_to(h, skip)
            h = decoder(torch.cat([h, skip], dim=1))
        return h + xin


class RSU4F(nn.Module):
    """RSU-4F: the same U with dilations (1, 2, 4, bottom 8) instead of pooling."""

    def __init__(self, cin, mid, cout):
        super().__init__()
        self.entry = ConvBnRelu(cin, cout)
        self.encoders = nn.ModuleList([ConvBnRelu(cout, mid, 1), ConvBnRelu(mid, mid, 2), ConvBnRelu(mid, mid, 4)])
        self.bottom = ConvBnRelu(mid, mid, 8)
        self.decoders = nn.ModuleList([ConvBnRelu(2 * mid, mid, 4), ConvBnRelu(2 * mid, mid, 2), ConvBnRelu(2 * mid, cout, 1)])

    def forward(self, x):
        xin = self.entry(x)
        skips = []
        h = xin
        for encoder in self.encoders:
            h = encoder(h)
            skips.append(h)
        h = self.bottom(h)
        for decoder, skip in zip(self.decoders, reversed(skips)):
            h = decoder(torch.cat([h, skip], dim=1))
        return h + xin


class U2NETP(nn.Module):
    def __init__(self, mid=16, width=64):
        super().__init__()
        self.encoders = nn.ModuleList([RSU(7, 3, mid, width), RSU(6, width, mid, width), RSU(5, width, mid, width),
                                       RSU(4, width, mid, width), RSU4F(width, mid, width)])
        self.bridge = RSU4F(width, mid, width)  # En6
        self.decoders = nn.ModuleList([RSU4F(2 * width, mid, width), RSU(4, 2 * width, mid, width),
                                       RSU(5, 2 * width, mid, width), RSU(6, 2 * width, mid, width),
                                       RSU(7, 2 * width, mid, width)])  # De5 .. De1
        self.sides = nn.ModuleList([nn.Conv2d(width, 1, 3, padding=1) for _ in range(6)])  # De1..De5, En6
        self.fuse = nn.Conv2d(6, 1, 1)

    def forward(self, x):
        return tuple(torch.sigmoid(d) for d in self.logits(x))

    def logits(self, x):
        """The seven maps before their sigmoid (fused d0 first); training uses these for BCE."""
        skips = []
        h = x
        for i, encoder in enumerate(self.encoders):
            if i > 0:
                h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
            h = encoder(h)
            skips.append(h)
        h = self.bridge(F.max_pool2d(h, 2, stride=2, ceil_mode=True))
        stage_outputs = [h]  # En6, De5, ..., De1
        for decoder, skip in zip(self.decoders, reversed(skips)):
            h = decoder(torch.cat([upsample_to(h, skip), skip], dim=1))
            stage_outputs.append(h)
        de1 = stage_outputs[-1]
        # d1 from De1, d2 from De2, ..., d6 from En6, all at the input resolution.
        logits = []
        for k, side in enumerate(self.sides):
            d = side(stage_outputs[len(stage_outputs) - 1 - k])
            logits.append(d if k == 0 else upsample_to(d, de1))
        d0 = self.fuse(torch.cat(logits, dim=1))
        return [d0] + logits


class U2NET(U2NETP):
    """The full U²-Net (about 44 M parameters): U2NETP's wiring with the paper's widths.

    Stage table (block, in, mid, out) as in Qin et al. 2020, Table 1 / the public u2net.py.
    """

    def __init__(self):
        nn.Module.__init__(self)
        self.encoders = nn.ModuleList([RSU(7, 3, 32, 64), RSU(6, 64, 32, 128), RSU(5, 128, 64, 256),
                                       RSU(4, 256, 128, 512), RSU4F(512, 256, 512)])
        self.bridge = RSU4F(512, 256, 512)  # En6
        self.decoders = nn.ModuleList([RSU4F(1024, 256, 512), RSU(4, 1024, 128, 256), RSU(5, 512, 64, 128),
                                       RSU(6, 256, 32, 64), RSU(7, 128, 16, 64)])  # De5 .. De1
        side_widths = [64, 64, 128, 256, 512, 512]  # De1, De2, De3, De4, De5, En6
        self.sides = nn.ModuleList([nn.Conv2d(w, 1, 3, padding=1) for w in side_widths])
        self.fuse = nn.Conv2d(6, 1, 1)


def calibrate_batchnorm(model, example, seed):
    """Gives every BatchNorm realistic, non-trivial inference statistics.

    Random weights with default BN stats (mean 0, var 1) let activations drift towards zero or
    infinity over a hundred layers, which makes a comparison insensitive. Running one batch in
    train mode with momentum None stores that batch's mean/var, so each layer sees roughly
    normalised inputs; seeded random gamma/beta then make folding BN into conv non-trivial.
    """
    generator = torch.Generator().manual_seed(seed)
    batchnorms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in batchnorms:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        model(example)
        for bn in batchnorms:
            bn.weight.copy_(torch.rand(bn.num_features, generator=generator) + 0.5)
            bn.bias.copy_(torch.randn(bn.num_features, generator=generator) * 0.2)
            bn.running_var.mul_(torch.rand(bn.num_features, generator=generator) * 0.5 + 0.75)
            bn.momentum = 0.1
    model.eval()


# ---------------------------------------------------------------------------------------------
# Deblurring via stochastic refinement (Whang et al., CVPR 2022): a deterministic predictor G
# and a small diffusion denoiser F of the residual x0 - G(y). Both are fully convolutional
# (any H, W that is a multiple of 4).
class PredictorBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class DeblurPredictor(nn.Module):
    """G: a UNet that regresses the sharp image from the blurry one (as a residual on y)."""

    def __init__(self, width=32):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.enc1 = PredictorBlock(width)
        self.down1 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.enc2 = PredictorBlock(2 * width)
        self.down2 = nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1)
        self.middle = nn.Sequential(PredictorBlock(4 * width), PredictorBlock(4 * width))
        self.up2 = nn.Conv2d(4 * width, 2 * width, 3, padding=1)
        self.dec2 = PredictorBlock(2 * width)
        self.up1 = nn.Conv2d(2 * width, width, 3, padding=1)
        self.dec1 = PredictorBlock(width)
        self.head = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, y):
        s1 = self.enc1(F.relu(self.stem(y)))
        s2 = self.enc2(F.relu(self.down1(s1)))
        h = self.middle(F.relu(self.down2(s2)))
        h = self.dec2(F.relu(self.up2(F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False))) + s2)
        h = self.dec1(F.relu(self.up1(F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False))) + s1)
        return y + self.head(h)


def sinusoidal_embedding(level, dim):
    """level: [B] continuous noise level -> [B, dim] (sin and cos at geometric frequencies)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = level.reshape(-1, 1) * frequencies.reshape(1, -1)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class DenoiserBlock(nn.Module):
    """SR3-style residual block: GroupNorm, SiLU, conv; the noise embedding adds a per-channel bias."""

    def __init__(self, cin, cout, embedding_dim, groups=8):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.embed = nn.Linear(embedding_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, embedding):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.embed(embedding).reshape(embedding.shape[0], -1, 1, 1)
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class ResidualDenoiser(nn.Module):
    """F: from z_t = sqrt(g) r + sqrt(1 - g) eps (r = x0 - G(y), g = sigmoid(log-SNR)), the blurry y
    (concatenated as channels) and the continuous noise level log-SNR, estimates the residual r.

    The residual's pixels are small (std about RESIDUAL_STD) while z's are up to 1, so the network
    is preconditioned as in Karras et al. 2022 (EDM), here for this variance-preserving z: with
    V = g s^2 + 1 - g (z's variance, s = RESIDUAL_STD),
      r_hat = c_skip z + c_out net(z / sqrt(V), y, log-SNR),
      c_skip = sqrt(g) s^2 / V (the best linear estimate of r from z), c_out = s sqrt((1 - g) / V)
    so the network sees unit-variance inputs and predicts a unit-variance correction, and an
    untrained network already gives the linear estimate. The exported graph returns the noise
    the estimate implies, eps = (z - sqrt(g) r_hat) / sqrt(1 - g): samplers see the usual interface."""

    RESIDUAL_STD = 0.025

    def __init__(self, width=16, embedding_dim=64):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.embed = nn.Sequential(nn.Linear(embedding_dim, 2 * embedding_dim), nn.SiLU(),
                                   nn.Linear(2 * embedding_dim, embedding_dim))
        # Widths 16, 32, 64 at full, half and quarter resolution: it runs once per sampling step,
        # so it is kept small (about 4.5 GFLOP per 256x256 step).
        self.stem = nn.Conv2d(6, width, 3, padding=1)
        self.enc1 = DenoiserBlock(width, width, embedding_dim)
        self.down1 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.enc2 = DenoiserBlock(2 * width, 2 * width, embedding_dim)
        self.down2 = nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1)
        self.middle = DenoiserBlock(4 * width, 4 * width, embedding_dim)
        self.dec2 = DenoiserBlock(6 * width, 2 * width, embedding_dim)
        self.dec1 = DenoiserBlock(3 * width, width, embedding_dim)
        self.out_norm = nn.GroupNorm(8, width)
        self.head = nn.Conv2d(width, 3, 3, padding=1)

    def network(self, z_in, y, log_snr):
        # log-SNR spans about [-6, 14]: scaled so the embedding's slowest frequencies see it.
        e = self.embed(sinusoidal_embedding(log_snr * 10.0, self.embedding_dim))
        s1 = self.enc1(self.stem(torch.cat([z_in, y], dim=1)), e)
        s2 = self.enc2(self.down1(s1), e)
        h = self.middle(self.down2(s2), e)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.dec2(torch.cat([h, s2], dim=1), e)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.dec1(torch.cat([h, s1], dim=1), e)
        return self.head(F.silu(self.out_norm(h)))

    def preconditioning(self, log_snr):
        g = torch.sigmoid(log_snr).reshape(-1, 1, 1, 1)
        s2 = self.RESIDUAL_STD**2
        variance = g * s2 + 1 - g
        return g, variance.rsqrt(), g.sqrt() * s2 / variance, self.RESIDUAL_STD * ((1 - g) / variance).sqrt()

    def predict_residual(self, z, y, log_snr):
        """(r_hat, the network's target scale c_out) for training."""
        g, c_in, c_skip, c_out = self.preconditioning(log_snr)
        return c_skip * z + c_out * self.network(c_in * z, y, log_snr), c_out

    def forward(self, z, y, log_snr):
        g = torch.sigmoid(log_snr).reshape(-1, 1, 1, 1)
        r_hat, _ = self.predict_residual(z, y, log_snr)
        return (z - g.sqrt() * r_hat) / (1 - g).sqrt()
