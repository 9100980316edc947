# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Deterministic generator of the embedded demo data set ("demo scenes").

Every image is a cluttered scene of textured objects. An object's class is
the pair (shape, texture): ellipses, boxes and triangles, each either
striped or dotted. Colours are drawn at random for every object and for the
background, and the background holds untextured blobs and checkered
patches, so no colour threshold and no single cue (texture alone, shape
alone) separates the classes: a segmenter has to learn both.

The data is written in Pascal VOC folder layout::

    root/
      JPEGImages/xxxxxx.jpg
      SegmentationClass/xxxxxx.png     palette PNG, class ids, 255 = void
      SegmentationObject/xxxxxx.png    palette PNG, instance ids, 255 = void
      ImageSets/Segmentation/{train,val}.txt
      meta.json                        generator parameters

Image ``i`` depends only on ``(seed, i)``, so the data set is identical on
every machine and can be generated in any order.
"""

import hashlib
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from mmseg_spml.label_encoding import IGNORE_INDEX
from mmseg_spml.utils.io import atomic_directory, label_palette, save_label_png

#: Class names; index = label id. Shapes x textures, background first.
DEMO_CLASSES: Tuple[str, ...] = (
    'background',
    'striped_ellipse',
    'dotted_ellipse',
    'striped_box',
    'dotted_box',
    'striped_triangle',
    'dotted_triangle',
)
#: VOC colour map for the classes above (the first 7 VOC colours).
DEMO_PALETTE: List[List[int]] = [
    [0, 0, 0],
    [128, 0, 0],
    [0, 128, 0],
    [128, 128, 0],
    [0, 0, 128],
    [128, 0, 128],
    [0, 128, 128],
]
_SHAPES = ('ellipse', 'box', 'triangle')
_TEXTURES = ('striped', 'dotted')

#: Bumped whenever the drawing code changes, so cached copies are rebuilt.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class DemoSceneConfig:
    """Parameters of the demo data set.

    Args:
        num_train (int): Number of training images. Default: 200.
        num_val (int): Number of validation images. Default: 50.
        size (int): Height and width of every image in pixels. Default: 128.
        max_objects (int): Largest number of objects in one image (at least
            one is always drawn). Default: 4.
        void_border (int): Width in pixels of the void (255) band drawn
            around every object, as in VOC annotations; 0 disables it.
            Default: 1.
        seed (int): Seed of the whole data set. Default: 0.
    """

    num_train: int = 200
    num_val: int = 50
    size: int = 128
    max_objects: int = 4
    void_border: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_train < 1 or self.num_val < 1:
            raise ValueError(
                'num_train and num_val must be >= 1, got '
                f'{self.num_train} and {self.num_val}'
            )
        if self.size < 32:
            raise ValueError(f'size must be >= 32 pixels, got {self.size}')
        if self.max_objects < 1:
            raise ValueError(
                f'max_objects must be >= 1, got {self.max_objects}'
            )
        if self.void_border < 0:
            raise ValueError(
                f'void_border must be >= 0, got {self.void_border}'
            )

    def fingerprint(self) -> str:
        """Short hash of the parameters and the generator version."""
        text = json.dumps(
            dict(asdict(self), version=GENERATOR_VERSION), sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, size=3)


def _distinct_colours(
    rng: np.random.Generator, min_dist: float = 80.0
) -> Tuple[np.ndarray, np.ndarray]:
    """Two random RGB colours at least ``min_dist`` apart."""
    first = _random_colour(rng)
    while True:
        second = _random_colour(rng)
        if np.linalg.norm(first - second) >= min_dist:
            return first, second


def _local_coords(
    yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, theta: float
) -> Tuple[np.ndarray, np.ndarray]:
    """Coordinates of the pixel grid in a frame centred at (cy, cx) and
    rotated by ``theta``; each output has shape (H, W)."""
    dy, dx = yy - cy, xx - cx
    cos, sin = np.cos(theta), np.sin(theta)
    return cos * dx + sin * dy, -sin * dx + cos * dy


def _shape_mask(
    shape: str, u: np.ndarray, v: np.ndarray, radius: float, aspect: float
) -> np.ndarray:
    """Boolean (H, W) mask of a shape given local coordinates ``u, v``."""
    a, b = radius, radius * aspect
    if shape == 'ellipse':
        return (u / a) ** 2 + (v / b) ** 2 <= 1
    if shape == 'box':
        return (np.abs(u) <= a * 0.85) & (np.abs(v) <= b * 0.85)
    # Triangle: intersection of three half-planes whose normals point at
    # angles 90, 210 and 330 degrees; the apex points along -v.
    inside = np.ones_like(u, dtype=bool)
    for angle in (np.pi / 2, np.pi * 7 / 6, np.pi * 11 / 6):
        inside &= u * np.cos(angle) + v * np.sin(angle) <= a * 0.6
    return inside


def _texture(
    texture: str, u: np.ndarray, v: np.ndarray, period: float
) -> np.ndarray:
    """Boolean (H, W) pattern: True where the first colour is painted."""
    if texture == 'striped':
        return np.sin(2 * np.pi * u / period) > 0
    if texture == 'dotted':
        du = np.mod(u, period) - period / 2
        dv = np.mod(v, period) - period / 2
        return du**2 + dv**2 <= (0.32 * period) ** 2
    # 'checker' is used only for background clutter.
    return (np.floor(u / period) + np.floor(v / period)) % 2 == 0


def _paint(
    img: np.ndarray,
    mask: np.ndarray,
    pattern: np.ndarray,
    colours: Tuple[np.ndarray, np.ndarray],
) -> None:
    img[mask & pattern] = colours[0]
    img[mask & ~pattern] = colours[1]


def render_scene(
    cfg: DemoSceneConfig, index: int
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one scene.

    Args:
        cfg (DemoSceneConfig): Data set parameters.
        index (int): Index of the image in the whole data set.

    Returns:
        tuple[np.ndarray]: ``(image, semantic, instance)``: an RGB uint8
        image of shape (H, W, 3), and uint8 class and instance maps of
        shape (H, W) with 255 on the void band around objects.
    """
    rng = np.random.default_rng([cfg.seed, index])
    size = cfg.size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)

    # Background: a random two-colour gradient plus low-frequency noise.
    c0, c1 = _distinct_colours(rng, min_dist=30.0)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * xx + np.sin(theta) * yy) / size
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    img = c0 * (1 - ramp[..., None]) + c1 * ramp[..., None]
    coarse = rng.normal(0, 18, size=(size // 16, size // 16, 3))
    img += cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)

    # Clutter: untextured blobs and checkered patches, not objects.
    for _ in range(rng.integers(2, 6)):
        u, v = _local_coords(
            yy,
            xx,
            rng.uniform(0, size),
            rng.uniform(0, size),
            rng.uniform(0, np.pi),
        )
        mask = _shape_mask(
            str(rng.choice(_SHAPES)),
            u,
            v,
            rng.uniform(0.05, 0.18) * size,
            rng.uniform(0.5, 1.5),
        )
        if rng.random() < 0.5:
            img[mask] = _random_colour(rng)
        else:
            pattern = _texture('checker', u, v, rng.uniform(4, 9))
            _paint(img, mask, pattern, _distinct_colours(rng))

    semantic = np.zeros((size, size), np.uint8)
    instance = np.zeros((size, size), np.uint8)
    for obj_id in range(1, rng.integers(1, cfg.max_objects + 1) + 1):
        shape_idx = rng.integers(len(_SHAPES))
        texture_idx = rng.integers(len(_TEXTURES))
        label = 1 + shape_idx * len(_TEXTURES) + texture_idx
        radius = rng.uniform(0.12, 0.3) * size
        margin = radius * 0.5
        u, v = _local_coords(
            yy,
            xx,
            rng.uniform(margin, size - margin),
            rng.uniform(margin, size - margin),
            rng.uniform(0, 2 * np.pi),
        )
        mask = _shape_mask(
            _SHAPES[shape_idx], u, v, radius, rng.uniform(0.6, 1.0)
        )
        period = rng.uniform(5, 10)
        # The texture has its own orientation, independent of the shape's.
        tu, tv = _local_coords(yy, xx, 0.0, 0.0, rng.uniform(0, np.pi))
        pattern = _texture(_TEXTURES[texture_idx], tu, tv, period)
        _paint(img, mask, pattern, _distinct_colours(rng))
        semantic[mask] = label
        instance[mask] = obj_id

    if cfg.void_border > 0:
        kernel = np.ones((2 * cfg.void_border + 1,) * 2, np.uint8)
        edges = cv2.dilate(instance, kernel) != cv2.erode(instance, kernel)
        semantic[edges] = IGNORE_INDEX
        instance[edges] = IGNORE_INDEX

    img += rng.normal(0, 6, size=img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img, semantic, instance


def _instance_palette(num: int = 255) -> List[List[int]]:
    """VOC's bit-interleaved colour map for ``num`` ids."""
    cmap = []
    for i in range(num):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap.append([r, g, b])
    return cmap


def split_names(cfg: DemoSceneConfig) -> Dict[str, List[str]]:
    """Image stems of the ``train`` and ``val`` splits."""
    names = [f'{i:06d}' for i in range(cfg.num_train + cfg.num_val)]
    return dict(train=names[: cfg.num_train], val=names[cfg.num_train :])


def write_demo_scenes(
    root: str, cfg: DemoSceneConfig, progress: bool = False
) -> None:
    """Write the demo data set to ``root`` atomically.

    The data is rendered into a temporary sibling folder which is renamed to
    ``root`` at the end, so ``root`` is either absent or complete, also when
    several processes (e.g. distributed ranks) generate it at once.

    Args:
        root (str): Destination folder; must not exist yet.
        cfg (DemoSceneConfig): Data set parameters.
        progress (bool): Show a progress bar. Default: False.
    """
    with atomic_directory(root, 'meta.json') as tmp:
        for sub in (
            'JPEGImages',
            'SegmentationClass',
            'SegmentationObject',
            'ImageSets/Segmentation',
        ):
            os.makedirs(osp.join(tmp, sub))
        class_palette = label_palette(DEMO_PALETTE)
        inst_palette = label_palette(_instance_palette())
        splits = split_names(cfg)
        names = splits['train'] + splits['val']
        bar = ProgressBar(len(names)) if progress else None
        for index, name in enumerate(names):
            img, semantic, instance = render_scene(cfg, index)
            cv2.imwrite(
                osp.join(tmp, 'JPEGImages', f'{name}.jpg'),
                cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 92],
            )
            save_label_png(
                osp.join(tmp, 'SegmentationClass', f'{name}.png'),
                semantic,
                class_palette,
            )
            save_label_png(
                osp.join(tmp, 'SegmentationObject', f'{name}.png'),
                instance,
                inst_palette,
            )
            if bar is not None:
                bar.update()
        if bar is not None:
            print()  # the bar leaves the cursor on its line
        for split, names in splits.items():
            with open(
                osp.join(tmp, 'ImageSets/Segmentation', f'{split}.txt'), 'w'
            ) as f:
                f.write('\n'.join(names) + '\n')
        with open(osp.join(tmp, 'meta.json'), 'w') as f:
            json.dump(
                dict(
                    asdict(cfg),
                    generator_version=GENERATOR_VERSION,
                    classes=list(DEMO_CLASSES),
                ),
                f,
                indent=2,
            )


def default_demo_root(cfg: DemoSceneConfig) -> str:
    """Cache folder of the demo data for ``cfg``.

    ``$MMSEG_SPML_DATA`` if set, else ``~/.cache/mmseg-spml/data``, with a
    subfolder named after the parameters' fingerprint.
    """
    base = os.environ.get(
        'MMSEG_SPML_DATA',
        osp.join(osp.expanduser('~'), '.cache', 'mmseg-spml', 'data'),
    )
    return osp.join(base, f'demo_scenes-{cfg.fingerprint()}')


def ensure_demo_scenes(
    root: str, cfg: DemoSceneConfig, progress: bool = False
) -> str:
    """Return ``root``, generating the demo data there first if missing
    (with a progress bar if ``progress``).

    Raises:
        ValueError: If ``root`` holds demo data made with other parameters.
    """
    meta_file = osp.join(root, 'meta.json')
    if not osp.exists(root):
        write_demo_scenes(root, cfg, progress)
    if not osp.isfile(meta_file):
        raise ValueError(
            f'{root} exists but has no meta.json: it is not a '
            'demo-scenes folder written by this generator'
        )
    with open(meta_file) as f:
        meta = json.load(f)
    expected = dict(asdict(cfg), generator_version=GENERATOR_VERSION)
    found = {k: meta.get(k) for k in expected}
    if found != expected:
        raise ValueError(
            f'{meta_file} was generated with {found}, but the config asks '
            f'for {expected}; delete the folder or point data_root elsewhere'
        )
    return root
