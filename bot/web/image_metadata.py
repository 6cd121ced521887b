"""What a photo says about the citizen besides the picture, removed before it is stored.

A phone photo's GPS position (Exif), its author and device (Exif, XMP, IPTC, comments, text
chunks) must not unmask an anonymous citizen. Copying a file's structure minus its metadata
segments is not enough (a phone's multi-picture JPEG carries a second picture with its own
Exif; anything may follow the image's end), so every upload is decoded with Pillow and written
anew from its pixels: only the first frame is kept, nothing after the image's end survives,
and the only metadata written is what the picture needs to look the same — its colour profile
and, for a JPEG, its Exif orientation (alone, in an Exif block of its own).

A JPEG is re-encoded with its own quantisation tables and chroma subsampling, so the new file
is visually the same as the original; PNG and lossless WebP are re-encoded losslessly; a lossy
WebP at a high quality. A file that does not decode, or whose width × height exceeds
:data:`MAX_PIXELS` (a decompression bomb: a small file that expands to gigabytes), is refused
before its pixels are read.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PIL import Image, JpegImagePlugin, UnidentifiedImageError

# 40 megapixels: above the largest ordinary phone photo (a 48 MP sensor writes 12 MP files by
# default), far below what would take a worker's memory (4 bytes a pixel once decoded).
MAX_PIXELS = 40_000_000
_ORIENTATION_TAG = 0x0112
# Pillow's name of each accepted format (MPO is a JPEG with more pictures after the first).
_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The decoders tried (Pillow's JPEG decoder opens an MPO file as such).
_DECODERS = ("JPEG", "PNG", "WEBP")
LOSSY_WEBP_QUALITY = 90


class Refusal(StrEnum):
    """Why an upload was refused."""

    NOT_AN_IMAGE = "not_an_image"  # not JPEG, PNG or WebP, or it does not decode
    TOO_MANY_PIXELS = "too_many_pixels"


@dataclass(frozen=True)
class CleanImage:
    """An upload written anew without its metadata."""

    content_type: str
    data: bytes
    size: tuple[int, int]


def sniff_image(head: bytes) -> str | None:
    """The image type of a file from its first bytes, or None if it is not an allowed one."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_image(data: bytes, max_pixels: int = MAX_PIXELS) -> CleanImage | Refusal:
    """The picture in ``data`` re-encoded without metadata, or why it is refused.

    CPU-bound (it decodes the whole picture): call it in a worker thread.
    """
    if sniff_image(data[:16]) is None:
        return Refusal.NOT_AN_IMAGE
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its limit refuses) on huge images; ours is lower.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_DECODERS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return Refusal.TOO_MANY_PIXELS
                content_type = _FORMATS[image.format or ""]
                image.seek(0)  # the first frame only
                image.load()
                out = io.BytesIO()
                image.save(out, **_save_options(image, content_type, data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Refusal.TOO_MANY_PIXELS
    except (UnidentifiedImageError, OSError, ValueError, KeyError, EOFError, SyntaxError):
        # Pillow reports broken files with any of these, depending on the format and the break.
        return Refusal.NOT_AN_IMAGE
    return CleanImage(content_type, out.getvalue(), (width, height))


def _save_options(image: Image.Image, content_type: str, data: bytes) -> dict[str, Any]:
    """How to write ``image`` again: same format, same look, no metadata besides the colour
    profile (and a JPEG's orientation)."""
    icc = image.info.get("icc_profile") or None
    if content_type == "image/jpeg":
        options: dict[str, Any] = {"format": "JPEG", "comment": b""}
        if isinstance(image, JpegImagePlugin.JpegImageFile) and image.mode != "CMYK":
            options["qtables"] = image.quantization
            options["subsampling"] = JpegImagePlugin.get_sampling(image)
        else:
            options["quality"] = 95
        orientation = image.getexif().get(_ORIENTATION_TAG)
        if isinstance(orientation, int) and 2 <= orientation <= 8:
            exif = Image.Exif()
            exif[_ORIENTATION_TAG] = orientation
            options["exif"] = exif.tobytes()
    elif content_type == "image/png":
        options = {"format": "PNG"}
    else:
        lossless = _webp_is_lossless(data)
        options = {"format": "WEBP", "lossless": lossless, "exact": lossless}
        if not lossless:
            options["quality"] = LOSSY_WEBP_QUALITY
    if icc:
        options["icc_profile"] = icc
    return options


def _webp_is_lossless(data: bytes) -> bool:
    """True if the WebP's picture is VP8L (lossless), from its chunk list."""
    index = 12
    while index + 8 <= len(data):
        kind = data[index : index + 4]
        if kind in (b"VP8L", b"VP8 ", b"ANMF"):
            return kind == b"VP8L"
        size = int.from_bytes(data[index + 4 : index + 8], "little")
        index += 8 + size + (size & 1)
    return False
