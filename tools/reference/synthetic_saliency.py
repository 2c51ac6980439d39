"""Procedurally generated salient-object images with their masks, for training U2NETP.

Each sample is one or two large, sharp foreground objects (random star-like or blobby
outlines; solid, gradient, striped, checked or noisy fills; a little shading) composited onto a
cluttered background (smooth colour fields, low-frequency noise, textures and dozens of smaller,
often blurred distractor shapes). The mask is the union of the foreground objects' silhouettes.
What makes an object "salient" here is what makes it salient in photos: it is large, near the
centre, in focus and distinct from its surroundings, while the clutter is small and soft.

Everything is a pure function of (seed, size), so a held-out set is reproducible from its seed.
"""
import math

import torch
import torch.nn.functional as F


def _grid(size):
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    return x, y


def _random_colour(g, saturated):
    colour = torch.rand(3, generator=g)
    if saturated:  # push one channel up and one down: vivid colours stand out from clutter
        order = torch.randperm(3, generator=g)
        colour[order[0]] = 0.75 + 0.25 * colour[order[0]]
        colour[order[1]] = 0.25 * colour[order[1]]
    return colour


def _low_frequency_noise(g, size, cells):
    coarse = torch.rand(1, 3, cells, cells, generator=g)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0].clamp(0, 1)


def _texture(g, size, base, contrast):
    """A 3xHxW fill: solid, linear gradient, stripes, checks or noise around `base`."""
    x, y = _grid(size)
    kind = int(torch.randint(0, 5, (1,), generator=g))
    angle = float(torch.rand(1, generator=g)) * math.pi
    u = x * math.cos(angle) + y * math.sin(angle)
    v = -x * math.sin(angle) + y * math.cos(angle)
    frequency = 4 + 20 * float(torch.rand(1, generator=g))
    if kind == 0:
        pattern = torch.zeros(size, size)
    elif kind == 1:
        pattern = u - 0.5
    elif kind == 2:
        pattern = 0.5 * torch.sign(torch.sin(2 * math.pi * frequency * u))
    elif kind == 3:
        pattern = 0.5 * torch.sign(torch.sin(2 * math.pi * frequency * u) * torch.sin(2 * math.pi * frequency * v))
    else:
        pattern = _low_frequency_noise(g, size, int(4 + 12 * float(torch.rand(1, generator=g))))[0] - 0.5
    second = _random_colour(g, False)
    fill = base[:, None, None] + contrast * pattern[None] * (second - base)[:, None, None] * 2
    return fill.clamp(0, 1)


def _shape_mask(g, size, centre, radius, softness):
    """A star-like or blobby silhouette: r(theta) = radius * (1 + sum_k a_k cos(k theta + phi_k))."""
    x, y = _grid(size)
    dx, dy = x - centre[0], y - centre[1]
    aspect = 0.6 + 0.8 * float(torch.rand(1, generator=g))
    rotation = float(torch.rand(1, generator=g)) * math.pi
    rx = dx * math.cos(rotation) + dy * math.sin(rotation)
    ry = (-dx * math.sin(rotation) + dy * math.cos(rotation)) * aspect
    r = torch.sqrt(rx * rx + ry * ry)
    theta = torch.atan2(ry, rx)
    boundary = torch.ones_like(theta)
    harmonics = int(torch.randint(1, 6, (1,), generator=g))
    for k in range(1, harmonics + 1):
        amplitude = 0.35 * float(torch.rand(1, generator=g)) / math.sqrt(k)
        phase = 2 * math.pi * float(torch.rand(1, generator=g))
        frequency = k if torch.rand(1, generator=g) < 0.7 else int(torch.randint(3, 9, (1,), generator=g))
        boundary = boundary + amplitude * torch.cos(frequency * theta + phase)
    edge = radius * boundary.clamp(min=0.2)
    return torch.sigmoid((edge - r) / softness)


def _blur(image, sigma):
    if sigma < 0.3:
        return image
    half = int(math.ceil(3 * sigma))
    taps = torch.exp(-0.5 * (torch.arange(-half, half + 1, dtype=torch.float32) / sigma) ** 2)
    taps = taps / taps.sum()
    channels = image.shape[0]
    padded = F.pad(image[None], (half, half, half, half), mode="replicate")
    out = F.conv2d(padded, taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    out = F.conv2d(out, taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)
    return out[0]


def _background(g, size):
    kind = int(torch.randint(0, 3, (1,), generator=g))
    if kind == 0:
        image = _low_frequency_noise(g, size, int(2 + 6 * float(torch.rand(1, generator=g))))
    elif kind == 1:
        image = _texture(g, size, _random_colour(g, False), 0.15 + 0.3 * float(torch.rand(1, generator=g)))
    else:
        x, y = _grid(size)
        a, b = _random_colour(g, False), _random_colour(g, False)
        image = a[:, None, None] * (1 - y[None]) + b[:, None, None] * y[None]
    # Clutter: many smaller shapes, most of them out of focus.
    clutter = int(torch.randint(10, 60, (1,), generator=g))
    for _ in range(clutter):
        centre = torch.rand(2, generator=g) * 1.2 - 0.1
        radius = 0.02 + 0.08 * float(torch.rand(1, generator=g)) ** 2
        mask = _shape_mask(g, size, centre, radius, 0.004)
        fill = _texture(g, size, _random_colour(g, False), 0.3 * float(torch.rand(1, generator=g)))
        alpha = 0.4 + 0.6 * float(torch.rand(1, generator=g))
        image = image * (1 - alpha * mask) + fill * alpha * mask
    return _blur(image, float(torch.rand(1, generator=g)) * 2.5 * size / 160)


def sample(seed, size):
    """Returns (image 3xHxW in [0,1], mask 1xHxW in [0,1]) for one seed."""
    g = torch.Generator().manual_seed(seed)
    image = _background(g, size)
    mask = torch.zeros(size, size)
    objects = 1 if torch.rand(1, generator=g) < 0.75 else 2
    for _ in range(objects):
        centre = 0.5 + (torch.rand(2, generator=g) - 0.5) * (0.35 if objects == 1 else 0.6)
        radius = (0.16 + 0.2 * float(torch.rand(1, generator=g))) / (1.0 if objects == 1 else 1.4)
        shape = _shape_mask(g, size, centre, radius, 0.6 / size)
        fill = _texture(g, size, _random_colour(g, True), 0.2 + 0.5 * float(torch.rand(1, generator=g)))
        # Shading: brighter towards a random light direction, so objects are not flat cut-outs.
        x, y = _grid(size)
        light = torch.rand(2, generator=g) - 0.5
        shading = 1 + 0.5 * ((x - centre[0]) * light[0] + (y - centre[1]) * light[1]) / max(radius, 1e-3)
        fill = (fill * shading.clamp(0.6, 1.3)[None]).clamp(0, 1)
        image = image * (1 - shape[None]) + fill * shape[None]
        mask = torch.maximum(mask, shape)
    noise = 0.02 * float(torch.rand(1, generator=g))
    image = (image + noise * torch.randn(image.shape, generator=g)).clamp(0, 1)
    return image, (mask > 0.5).float()[None]


def batch(seeds, size):
    images, masks = zip(*(sample(s, size) for s in seeds))
    return torch.stack(images), torch.stack(masks)
