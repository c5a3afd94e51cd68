"""A small SVG rasterizer for the SVGs vtracer writes (no cairo on the test machines): <path>
elements of M, L, C and Z commands, a translate() transform, a solid fill, the even-odd rule.
Enough to measure what a traced file covers and with which colours."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image, ImageDraw

SVG_NS = "{http://www.w3.org/2000/svg}"
TOKEN = re.compile(r"[MLCZmlcz]|-?\d+(?:\.\d+)?(?:e-?\d+)?")
CURVE_STEPS = 8


def subpaths(d: str) -> list[list[tuple[float, float]]]:
    """The closed outlines of a path's data, cubic curves flattened to CURVE_STEPS segments each."""
    tokens = TOKEN.findall(d)
    outlines: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    i, command = 0, ""
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "Zz":
                if current:
                    outlines.append(current)
                current = []
            continue
        if command == "M":
            if current:
                outlines.append(current)
            current = [(float(tokens[i]), float(tokens[i + 1]))]
            i += 2
            command = "L"
        elif command == "L":
            current.append((float(tokens[i]), float(tokens[i + 1])))
            i += 2
        elif command == "C":
            p0 = current[-1]
            c1, c2, p1 = ((float(tokens[i + k]), float(tokens[i + k + 1])) for k in (0, 2, 4))
            for step in range(1, CURVE_STEPS + 1):
                t = step / CURVE_STEPS
                u = 1 - t
                current.append(tuple(u ** 3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t ** 3 * e
                                     for a, b, c, e in zip(p0, c1, c2, p1, strict=True)))
            i += 6
        else:
            raise AssertionError(f"path command {command!r} is not one vtracer writes")
    if current:
        outlines.append(current)
    return outlines


def rasterize(svg: bytes, scale: float = 1.0) -> Image.Image:
    """The SVG drawn as RGBA over its viewBox (transparent where no path covers), `scale` pixels
    per viewBox unit."""
    root = ET.fromstring(svg)
    x0, y0, width, height = (float(v) for v in root.attrib["viewBox"].split())
    size = (round(width * scale), round(height * scale))
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    for path in root.iter(f"{SVG_NS}path"):
        tx, ty = (float(v) for v in re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", path.attrib.get("transform", "translate(0,0)")).groups())
        covered = np.zeros(size[::-1], dtype=bool)
        for outline in subpaths(path.attrib["d"]):
            if len(outline) < 3:
                continue
            layer = Image.new("1", size, 0)
            ImageDraw.Draw(layer).polygon([((x + tx - x0) * scale, (y + ty - y0) * scale) for x, y in outline], fill=1)
            covered ^= np.asarray(layer)  # even-odd: a hole inside an outline is left out
        fill = path.attrib["fill"].lstrip("#")
        colour = tuple(int(fill[k:k + 2], 16) for k in (0, 2, 4)) + (255,)
        canvas.paste(colour, (0, 0), Image.fromarray(covered.astype(np.uint8) * 255, mode="L"))
    return canvas
