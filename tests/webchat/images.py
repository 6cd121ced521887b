"""Small image files for upload tests: byte by byte, or by Pillow with a phone's metadata."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x20\x60\xa0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


GPS_MARKER = b"GPS 43.2389N 76.8897E"
DEVICE = "AigerimPhone 15"


def _exif(orientation: int | None = None, device: str = DEVICE) -> bytes:
    """Exif as phones write it: device, a GPS position, a comment; an orientation if given."""
    exif = Image.Exif()
    exif[0x010F] = device  # Make
    exif[0x0110] = device  # Model
    exif[0x010E] = GPS_MARKER.decode()  # ImageDescription
    exif.get_ifd(0x8825)[2] = (43.0, 14.0, 20.0)  # GPSLatitude
    if orientation is not None:
        exif[0x0112] = orientation
    return exif.tobytes()


def picture(width: int = 32, height: int = 24) -> Image.Image:
    """An RGB picture of smooth gradients, as photos mostly are (so rotations and losses show)."""
    red = Image.linear_gradient("L").resize((width, height))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    return Image.merge("RGB", (red, green, Image.new("L", (width, height), 90)))


def jpeg_with_exif(orientation: int | None = None) -> bytes:
    """A real JPEG with Exif (device, GPS), XMP and a comment naming the citizen."""
    buffer = io.BytesIO()
    picture().save(
        buffer,
        "JPEG",
        quality=90,
        exif=_exif(orientation),
        comment=b"taken by Aigerim",
        xmp=b"<x:xmpmeta>GPS Aigerim</x:xmpmeta>",
    )
    return buffer.getvalue()


def jpeg_with_orientation(orientation: int) -> bytes:
    """Like :func:`jpeg_with_exif`, with an Exif orientation."""
    return jpeg_with_exif(orientation)


def mpo_with_exif() -> bytes:
    """A multi-picture JPEG as phones write it: the second picture has its own Exif."""
    first, second = picture(), picture().transpose(Image.Transpose.ROTATE_180)
    second.encoderinfo = {"exif": _exif(device="SecondFramePhone")}
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second], exif=_exif(6))
    return buffer.getvalue()


def jpeg_with_jpeg_appended() -> bytes:
    """A clean JPEG followed, after its end marker, by a JPEG with Exif."""
    buffer = io.BytesIO()
    picture().save(buffer, "JPEG")
    return buffer.getvalue() + jpeg_with_exif()


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A PNG that announces ``width`` × ``height`` pixels in a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 4)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    return head + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
