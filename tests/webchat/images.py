"""Small image files for upload tests, built byte by byte."""

from __future__ import annotations

import struct
import zlib


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


def jpeg_with_exif() -> bytes:
    """A JPEG's segment structure with an Exif segment carrying a (fake) GPS position."""

    def segment(marker: int, data: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xE1, b"Exif\x00\x00" + GPS_MARKER)
        + segment(0xFE, b"taken by Aigerim")
        + segment(0xDB, b"\x00" + bytes(range(64)))
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x12\x34\x56\x78" * 16
        + b"\xff\xd9"
    )


def jpeg_with_orientation(orientation: int) -> bytes:
    """Like :func:`jpeg_with_exif`, with a little-endian Exif block as phones write it: an
    Orientation tag, a (fake) GPS pointer and the GPS text after the directory."""

    def segment(marker: int, data: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    entries = [
        struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0),  # Orientation, SHORT
        struct.pack("<HHII", 0x8825, 4, 1, 38),  # GPS IFD pointer, LONG
    ]
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    tiff += b"".join(entries) + struct.pack("<I", 0) + GPS_MARKER
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xE1, b"Exif\x00\x00" + tiff)
        + segment(0xDB, b"\x00" + bytes(range(64)))
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x12\x34\x56\x78" * 16
        + b"\xff\xd9"
    )
