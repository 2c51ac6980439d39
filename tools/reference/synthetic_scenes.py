#!/usr/bin/python3
"""Synthetic multi-camera driving scenes for the tiny PETR and BEVFormer (shared/MODELS.md
section 6), and the host-side geometry both detectors need, written once here so training,
the goldens and nnc's C++ (models/detect3d) compute the same tensors.

usage:
  /usr/bin/python3 tools/reference/synthetic_scenes.py OUT_DIR [--scenes N] [--frames T] [--seed S]
      writes OUT_DIR/seq_000/frame_00/scene.json + six PNGs (T frames per sequence)

Ego frame: x forward, y left, z up, ground at z = 0. A ring of six cameras (yaw 0, 60, ..., 300
degrees, 0.5 m from the centre, 1.6 m high, 70 degree horizontal field of view) looks at boxes
of three classes standing on a checkered ground. Ground truth boxes are in the ego frame:
centre (x, y, z), size (w, l, h) with l along the heading, yaw, velocity (vx, vy) in m/s over
the ground, expressed in the ego frame. Sequences move the ego and the boxes 0.5 s per frame.
"""
import argparse
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

IMG_W, IMG_H = 160, 64
CAM_NAMES = ["CAM_FRONT", "CAM_FRONT_LEFT", "CAM_BACK_LEFT", "CAM_BACK", "CAM_BACK_RIGHT", "CAM_FRONT_RIGHT"]
CLASSES = ["car", "truck", "pedestrian"]
SIZES = {"car": (1.9, 4.5, 1.6), "truck": (2.5, 8.0, 3.2), "pedestrian": (0.7, 0.7, 1.8)}  # w, l, h
COLOURS = {"car": (205, 45, 40), "truck": (40, 85, 210), "pedestrian": (235, 200, 30)}
FRAME_DT = 0.5
SCENE_RANGE = 24.0  # box centres within +-24 m: inside BEV-tiny's +-25.6 m grid

# Host geometry of the tiny detectors (MODELS.md sections 2, 3).
POSITION_RANGE = np.array([-61.2, -61.2, -10.0, 61.2, 61.2, 10.0])  # PETR's frustum normalisation
PETR_PC_RANGE = np.array([-51.2, -51.2, -5.0, 51.2, 51.2, 3.0])
BEV_PC_RANGE = np.array([-25.6, -25.6, -5.0, 25.6, 25.6, 3.0])
PILLAR_HEIGHTS = [(k + 0.25) / 4 for k in range(4)]  # of the z range: -4.5, -2.5, -0.5, 1.5 m (MODELS.md)
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


# ---------------------------------------------------------------- the camera rig

def camera_rig(width=IMG_W, height=IMG_H):
    """[(name, K 3x3, sensor_to_ego 4x4)] for the six-camera ring."""
    f = (width / 2) / math.tan(math.radians(35))
    K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
    rig = []
    for i, name in enumerate(CAM_NAMES):
        yaw = math.radians(60 * i)
        right = [math.sin(yaw), -math.cos(yaw), 0.0]
        down = [0.0, 0.0, -1.0]
        forward = [math.cos(yaw), math.sin(yaw), 0.0]
        s2e = np.eye(4)
        s2e[:3, :3] = np.array([right, down, forward]).T  # columns: camera axes in the ego frame
        s2e[:3, 3] = [0.5 * math.cos(yaw), 0.5 * math.sin(yaw), 1.6]
        rig.append((name, K.copy(), s2e))
    return rig


def lidar2img(K, sensor_to_ego):
    K4 = np.eye(4)
    K4[:3, :3] = K
    return K4 @ np.linalg.inv(sensor_to_ego)


def pose(x, y, yaw):
    T = np.eye(4)
    T[:2, :2] = [[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]]
    T[:2, 3] = [x, y]
    return T


# ---------------------------------------------------------------- scenes

def box_corners(b):
    """8 corners (ego frame) of a box dict; bottom four then top four, counter-clockwise."""
    w, l, h = b["size"]
    c, s = math.cos(b["yaw"]), math.sin(b["yaw"])
    local = np.array([[l / 2, w / 2], [-l / 2, w / 2], [-l / 2, -w / 2], [l / 2, -w / 2]])
    xy = local @ np.array([[c, s], [-s, c]]) + b["center"][:2]
    z0, z1 = b["center"][2] - h / 2, b["center"][2] + h / 2
    return np.concatenate([np.c_[xy, np.full(4, z0)], np.c_[xy, np.full(4, z1)]])


FACES = [(0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
SHADE = [0.45, 1.0, 0.85, 0.7, 0.6, 0.78]


def random_world_boxes(rng, count):
    """Boxes in the world frame of the first frame (ego at the origin), not overlapping."""
    boxes = []
    while len(boxes) < count:
        cls = CLASSES[rng.choice(3, p=[0.5, 0.2, 0.3])]
        w, l, h = (np.array(SIZES[cls]) * rng.uniform(0.9, 1.1, 3)).tolist()
        x, y = rng.uniform(-SCENE_RANGE, SCENE_RANGE, 2)
        if abs(x) < 3.5 and abs(y) < 3.0:
            continue
        radius = math.hypot(w, l) / 2
        if any(math.hypot(x - b["center"][0], y - b["center"][1]) < radius + b["radius"] + 1.5 for b in boxes):
            continue
        yaw = rng.uniform(-math.pi, math.pi)
        if cls == "pedestrian":
            speed, heading = rng.uniform(0, 1.5), rng.uniform(-math.pi, math.pi)
        else:
            speed, heading = (0.0 if rng.random() < 0.3 else rng.uniform(1, 8)), yaw
        boxes.append({"class": cls, "center": np.array([x, y, h / 2]), "size": [w, l, h], "yaw": yaw,
                      "velocity": np.array([speed * math.cos(heading), speed * math.sin(heading)]),
                      "radius": radius})
    return boxes


def boxes_in_ego(world_boxes, ego_to_world):
    """World boxes seen from an ego pose: centre, yaw and velocity in the ego frame."""
    w2e = np.linalg.inv(ego_to_world)
    ego_yaw = math.atan2(ego_to_world[1, 0], ego_to_world[0, 0])
    out = []
    for b in world_boxes:
        centre = (w2e @ np.r_[b["center"], 1.0])[:3]
        R = w2e[:2, :2]
        yaw = (b["yaw"] - ego_yaw + math.pi) % (2 * math.pi) - math.pi
        out.append({"class": b["class"], "center": centre, "size": b["size"], "yaw": yaw,
                    "velocity": R @ b["velocity"]})
    return out


_GROUND = {}


def ground_points(name, Ks, s2e, W, H):
    """Where the ray through each pixel meets z = 0 (ego frame), cached per camera: the rig is fixed."""
    if name not in _GROUND:
        u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
        rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(Ks).T @ s2e[:3, :3].T
        origin = s2e[:3, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = -origin[2] / rays[..., 2]
        ground = (rays[..., 2] < -1e-6) & (t < 80)
        pts = origin + rays * np.where(ground, t, 0)[..., None]
        _GROUND[name] = (ground, t, pts, v)
    return _GROUND[name]


def render(boxes, ego_to_world, rig, seed, supersample=2):
    """Six uint8 images [H, W, 3]: checkered ground (fixed in the world), sky, shaded boxes."""
    images = []
    rng = np.random.default_rng(seed)
    for name, K, s2e in rig:
        W, H = IMG_W * supersample, IMG_H * supersample
        Ks = K.copy()
        Ks[:2] *= supersample
        ground, t, pts, v = ground_points(name, Ks, s2e, W, H)
        world = pts @ ego_to_world[:3, :3].T + ego_to_world[:3, 3]
        checker = (np.floor(world[..., 0] / 2) + np.floor(world[..., 1] / 2)) % 2
        fade = np.clip(1 - t / 80, 0, 1)[..., None]
        ground_rgb = np.where(checker[..., None] > 0, [120, 120, 112], [88, 90, 84]) * fade + [150, 160, 170] * (1 - fade)
        sky = np.array([150, 180, 215]) - (v[..., None] / H) * [30, 30, 20]
        img = np.where(ground[..., None], ground_rgb, sky).astype(np.uint8)
        pil = Image.fromarray(img)
        draw = ImageDraw.Draw(pil)
        e2c = np.linalg.inv(s2e)
        faces = []
        for b in boxes:
            corners = (np.c_[box_corners(b), np.ones(8)] @ e2c.T)[:, :3]
            for f, shade in zip(FACES, SHADE):
                # Painter's order by face centre: a convex box's hidden faces lie behind its visible ones.
                poly = corners[list(f)]
                faces.append((np.linalg.norm(poly.mean(0)), poly, shade, COLOURS[b["class"]]))
        for depth, poly, shade, colour in sorted(faces, key=lambda x: -x[0]):
            poly = clip_near(poly, 0.1)
            if len(poly) < 3:
                continue
            uvw = poly @ Ks.T
            uv = uvw[:, :2] / uvw[:, 2:3]
            if np.abs(uv).max() > 1e5:
                continue
            fill = tuple(int(c * shade) for c in colour)
            draw.polygon([tuple(p) for p in uv], fill=fill)
        img = np.asarray(pil.resize((IMG_W, IMG_H), Image.BOX)).astype(np.float32)
        img += rng.normal(0, 2.0, img.shape)  # a little sensor noise
        images.append(np.clip(img, 0, 255).astype(np.uint8))
    return images


def clip_near(poly, near):
    """Sutherland-Hodgman against the plane z = near (camera frame)."""
    out = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        if a[2] >= near:
            out.append(a)
        if (a[2] >= near) != (b[2] >= near):
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out)


def sequence(rng, frames, rig, seed):
    """[(images, ego_to_world, ego-frame boxes, timestamp)] for one drive of `frames` frames."""
    world = random_world_boxes(rng, int(rng.integers(4, 10)))
    speed, yaw_rate = rng.uniform(0, 8) if rng.random() < 0.8 else 0.0, rng.uniform(-0.15, 0.15)
    x, y, yaw = 0.0, 0.0, rng.uniform(-math.pi, math.pi)
    out = []
    for k in range(frames):
        e2w = pose(x, y, yaw)
        boxes = boxes_in_ego(world, e2w)
        visible = [b for b in boxes if np.abs(b["center"][:2]).max() < SCENE_RANGE + 1]
        out.append((render(boxes, e2w, rig, seed * 100 + k), e2w, visible, k * FRAME_DT))
        for b in world:  # the world moves on
            b["center"][:2] += b["velocity"] * FRAME_DT
        x += speed * FRAME_DT * math.cos(yaw)
        y += speed * FRAME_DT * math.sin(yaw)
        yaw += yaw_rate * FRAME_DT
    return out


def write_scene(folder, images, ego_to_world, boxes, timestamp, rig):
    folder.mkdir(parents=True, exist_ok=True)
    cams = []
    for img, (name, K, s2e) in zip(images, rig):
        Image.fromarray(img).save(folder / f"{name}.png")
        cams.append({"name": name, "image": f"{name}.png", "intrinsics": np.round(K, 6).tolist(),
                     "sensor_to_ego": np.round(s2e, 9).tolist()})
    scene = {"timestamp": timestamp, "ego_to_world": np.round(ego_to_world, 9).tolist(), "cameras": cams,
             "boxes": [{"class": b["class"], "center": np.round(b["center"], 4).tolist(),
                        "size": np.round(b["size"], 4).tolist(), "yaw": round(float(b["yaw"]), 5),
                        "velocity": np.round(b["velocity"], 4).tolist()} for b in boxes]}
    (folder / "scene.json").write_text(json.dumps(scene, indent=1) + "\n")


# ---------------------------------------------------------------- host tensors (mirrored by models/detect3d)

def normalise_images(images):
    """uint8 [6, H, W, 3] -> float32 [6, 3, H, W], RGB ImageNet mean/std."""
    x = (np.asarray(images, np.float32) / 255 - MEAN) / STD
    return x.transpose(0, 3, 1, 2).copy()


def inverse_sigmoid(x, eps=1e-5):
    x = np.clip(x, 0, 1)
    return np.log(np.maximum(x, eps) / np.maximum(1 - x, eps))


def petr_coords(l2i_list, img_h, img_w, feat_h, feat_w, depths):
    """[6, 3·depths, feat_h, feat_w]: each feature cell's frustum points lifted to the ego frame
    by inverse(lidar2img), normalised to POSITION_RANGE, inverse-sigmoided; channel = k·3 + axis."""
    k = np.arange(depths, dtype=np.float64)
    d = 1 + 60.2 / (depths * (depths + 1)) * k * (k + 1)
    v, u = np.meshgrid(np.arange(feat_h) * img_h / feat_h, np.arange(feat_w) * img_w / feat_w, indexing="ij")
    pts = np.stack([u[None] * d[:, None, None], v[None] * d[:, None, None],
                    np.broadcast_to(d[:, None, None], (depths, feat_h, feat_w)), np.ones((depths, feat_h, feat_w))], -1)
    out = []
    for l2i in l2i_list:
        ego = pts @ np.linalg.inv(l2i).T
        lo, hi = POSITION_RANGE[:3], POSITION_RANGE[3:]
        xyz = inverse_sigmoid((ego[..., :3] - lo) / (hi - lo))
        out.append(xyz.transpose(0, 3, 1, 2).reshape(depths * 3, feat_h, feat_w))
    return np.stack(out).astype(np.float32)


def bev_cell_centres(bev_h, bev_w, pc_range=BEV_PC_RANGE):
    """[bev_h·bev_w, 2] ego (x, y) of each BEV query, row-major: column -> x, row -> y."""
    ys, xs = np.meshgrid((np.arange(bev_h) + 0.5) / bev_h, (np.arange(bev_w) + 0.5) / bev_w, indexing="ij")
    x = pc_range[0] + xs.ravel() * (pc_range[3] - pc_range[0])
    y = pc_range[1] + ys.ravel() * (pc_range[4] - pc_range[1])
    return np.stack([x, y], -1)


def bev_ref_cam(l2i_list, bev_h, bev_w, img_h, img_w, pc_range=BEV_PC_RANGE):
    """Pillars of every BEV cell projected into each camera: ref_cam [6,1,Q,4,2] (u/W, v/H,
    clamped to [-1, 2]) and bev_mask [6,1,Q,4] (in front and inside the image)."""
    xy = bev_cell_centres(bev_h, bev_w, pc_range)
    q = len(xy)
    ref = np.zeros((len(l2i_list), 1, q, 4, 2), np.float32)
    mask = np.zeros((len(l2i_list), 1, q, 4), np.float32)
    for c, l2i in enumerate(l2i_list):
        for k, frac in enumerate(PILLAR_HEIGHTS):
            z = pc_range[2] + frac * (pc_range[5] - pc_range[2])
            p = np.c_[xy, np.full(q, z), np.ones(q)] @ l2i.T
            depth = p[:, 2]
            uv = p[:, :2] / np.maximum(depth, 1e-5)[:, None] / [img_w, img_h]
            mask[c, 0, :, k] = (depth > 1e-5) & (uv[:, 0] > 0) & (uv[:, 0] < 1) & (uv[:, 1] > 0) & (uv[:, 1] < 1)
            ref[c, 0, :, k] = np.clip(uv, -1, 2)
    return ref, mask


def ego_motion(prev_e2w, cur_e2w):
    """(translation delta in the current ego frame [3], yaw delta) from two ego-to-world poses."""
    delta = np.linalg.inv(cur_e2w) @ prev_e2w  # previous ego frame seen from the current one
    dyaw = math.atan2(cur_e2w[1, 0], cur_e2w[0, 0]) - math.atan2(prev_e2w[1, 0], prev_e2w[0, 0])
    dyaw = (dyaw + math.pi) % (2 * math.pi) - math.pi
    shift = cur_e2w[:3, :3].T @ (cur_e2w[:3, 3] - prev_e2w[:3, 3])
    return shift, dyaw, delta


def can_bus(shift, dyaw):
    """The 18-d CAN-bus vector of nnc's tiny BEVFormer: [0:3] ego translation since the last
    frame (current ego frame), [3:7] quaternion (w, x, y, z) of the yaw change, [7:16] zero (no
    IMU), [16] yaw change in rad, [17] in degrees."""
    v = np.zeros(18, np.float32)
    v[0:3] = shift
    v[3], v[6] = math.cos(dyaw / 2), math.sin(dyaw / 2)
    v[16], v[17] = dyaw, math.degrees(dyaw)
    return v


def align_prev_bev(prev_bev, bev_h, bev_w, shift, dyaw, pc_range=BEV_PC_RANGE):
    """The previous BEV rotated by the yaw change about the grid centre (bilinear, zeros
    outside) and the history reference points shifted by the ego translation: (prev_bev', hist_ref)."""
    xy = bev_cell_centres(bev_h, bev_w, pc_range)
    c, s = math.cos(dyaw), math.sin(dyaw)
    src = xy @ np.array([[c, s], [-s, c]])  # R(dyaw) applied to each row
    gx = (src[:, 0] - pc_range[0]) / (pc_range[3] - pc_range[0]) * bev_w - 0.5
    gy = (src[:, 1] - pc_range[1]) / (pc_range[4] - pc_range[1]) * bev_h - 0.5
    grid = prev_bev.reshape(bev_h, bev_w, -1)
    out = np.zeros_like(prev_bev.reshape(bev_h * bev_w, -1))
    x0, y0 = np.floor(gx).astype(int), np.floor(gy).astype(int)
    for dy in (0, 1):
        for dx in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            w = (1 - np.abs(gx - xi)) * (1 - np.abs(gy - yi))
            ok = (xi >= 0) & (xi < bev_w) & (yi >= 0) & (yi < bev_h)
            out[ok] += w[ok, None] * grid[yi[ok], xi[ok]]
    hist = xy + shift[:2]
    hist_ref = np.stack([(hist[:, 0] - pc_range[0]) / (pc_range[3] - pc_range[0]),
                         (hist[:, 1] - pc_range[1]) / (pc_range[4] - pc_range[1])], -1)
    return out.reshape(prev_bev.shape).astype(np.float32), hist_ref.astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--scenes", type=int, default=4, help="sequences to write")
    ap.add_argument("--frames", type=int, default=1, help="frames per sequence")
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args()
    rig = camera_rig()
    rng = np.random.default_rng(args.seed)
    for s in range(args.scenes):
        for k, (images, e2w, boxes, ts) in enumerate(sequence(rng, args.frames, rig, args.seed + s)):
            write_scene(args.out / f"seq_{s:03d}" / f"frame_{k:02d}", images, e2w, boxes, ts, rig)
    print(f"wrote {args.scenes} sequence(s) of {args.frames} frame(s) to {args.out}")


if __name__ == "__main__":
    main()
