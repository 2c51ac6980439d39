"""Blurry/sharp image pairs for training and scoring the deblurring model.

Sharp images are crops of natural photos (scikit-image's public-domain samples in Debian's
python3-skimage, split into training and held-out photos) or procedural scenes (the textured
shapes of synthetic_saliency.py). Each is blurred with a random camera-shake kernel (a random
walk of 5-25 px, splatted sub-pixel) or a Gaussian (isotropic or not), then gets Gaussian noise
(sigma up to 0.02) and 8-bit quantisation, as a PNG would hold it. Pure functions of a seed.
"""
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import synthetic_saliency

SKIMAGE_DATA = Path("/usr/lib/python3/dist-packages/skimage/data")
TRAIN_PHOTOS = ["astronaut.png", "brick.png", "camera.png", "grass.png", "gravel.png", "motorcycle_left.png",
                "rocket.jpg", "hubble_deep_field.jpg", "coins.png", "page.png", "moon.png", "ihc.png", "retina.jpg",
                "immunohistochemistry.png", "text.png", "horse.png", "logo.png", "color.png"]
HELD_OUT_PHOTOS = ["chelsea.png", "coffee.png"]  # never seen in training


def load_photos(names):
    photos = []
    for name in names:
        path = SKIMAGE_DATA / name
        if not path.exists():
            continue
        image = Image.open(path).convert("RGB")
        photos.append(torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous())
    return photos


def motion_kernel(g, size=25):
    """Camera shake: a random walk with momentum, splatted bilinearly into a size x size kernel."""
    length = 5 + 20 * float(torch.rand(1, generator=g))
    steps = 64
    angle = 2 * math.pi * float(torch.rand(1, generator=g))
    turn = 0.3 * float(torch.rand(1, generator=g))
    points = []
    x = y = 0.0
    for _ in range(steps):
        angle += turn * float(torch.randn(1, generator=g))
        x += math.cos(angle) * length / steps
        y += math.sin(angle) * length / steps
        points.append((x, y))
    cx = sum(p[0] for p in points) / steps
    cy = sum(p[1] for p in points) / steps
    kernel = torch.zeros(size, size)
    for px, py in points:
        fx, fy = px - cx + size // 2, py - cy + size // 2
        x0, y0 = int(math.floor(fx)), int(math.floor(fy))
        wx, wy = fx - x0, fy - y0
        for dx, dy, w in ((0, 0, (1 - wx) * (1 - wy)), (1, 0, wx * (1 - wy)), (0, 1, (1 - wx) * wy), (1, 1, wx * wy)):
            if 0 <= x0 + dx < size and 0 <= y0 + dy < size:
                kernel[y0 + dy, x0 + dx] += w
    return kernel / kernel.sum()


def gaussian_kernel(g, size=25):
    sx = 0.6 + 2.4 * float(torch.rand(1, generator=g))
    sy = sx if torch.rand(1, generator=g) < 0.5 else 0.6 + 2.4 * float(torch.rand(1, generator=g))
    theta = math.pi * float(torch.rand(1, generator=g))
    r = torch.arange(size, dtype=torch.float32) - size // 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    u = xx * math.cos(theta) + yy * math.sin(theta)
    v = -xx * math.sin(theta) + yy * math.cos(theta)
    kernel = torch.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
    return kernel / kernel.sum()


def degrade(sharp, g):
    """sharp: 3xHxW in [0,1] -> blurry 3xHxW in [0,1], quantised to 8 bits."""
    kernel = motion_kernel(g) if torch.rand(1, generator=g) < 0.65 else gaussian_kernel(g)
    half = kernel.shape[0] // 2
    padded = F.pad(sharp[None], (half, half, half, half), mode="reflect")
    blurry = F.conv2d(padded, kernel.flip(0, 1)[None, None].repeat(3, 1, 1, 1), groups=3)[0]
    sigma = 0.02 * float(torch.rand(1, generator=g))
    blurry = blurry + sigma * torch.randn(blurry.shape, generator=g)
    return (blurry.clamp(0, 1) * 255).round() / 255


def sharp_crop(g, photos, size):
    """A size x size sharp image: a random crop of a photo (random scale, flip) or a procedural scene."""
    if photos and torch.rand(1, generator=g) < 0.6:
        photo = photos[int(torch.randint(0, len(photos), (1,), generator=g))]
        scale = 0.5 + 0.5 * float(torch.rand(1, generator=g))
        h, w = photo.shape[1:]
        scale = max(scale, (size + 1) / min(h, w))
        scaled = F.interpolate(photo[None], scale_factor=scale, mode="bilinear", align_corners=False,
                               antialias=True, recompute_scale_factor=False)[0] if scale < 1 else photo
        h, w = scaled.shape[1:]
        top = int(torch.randint(0, h - size + 1, (1,), generator=g))
        left = int(torch.randint(0, w - size + 1, (1,), generator=g))
        crop = scaled[:, top:top + size, left:left + size]
        if torch.rand(1, generator=g) < 0.5:
            crop = crop.flip(2)
        return crop.contiguous()
    image, _ = synthetic_saliency.sample(int(torch.randint(0, 2**31 - 1, (1,), generator=g)), size)
    return image


def pair(seed, size, photos):
    g = torch.Generator().manual_seed(seed)
    sharp = sharp_crop(g, photos, size)
    return degrade(sharp, g), sharp


def batch(seeds, size, photos):
    blurry, sharp = zip(*(pair(s, size, photos) for s in seeds))
    return torch.stack(blurry), torch.stack(sharp)
