"""What a photo says about the citizen besides the picture, removed before it is stored.

A phone photo's GPS position (Exif), its author and device (Exif, XMP, IPTC, text chunks) must
not unmask an anonymous citizen. The picture itself is never decoded or re-encoded: metadata
segments and chunks are dropped from the file's structure, the image data is copied as it is.
A JPEG keeps only its Exif orientation, in a new Exif segment of its own, so that a photo taken
with the phone held upright is shown upright to staff.
"""

from __future__ import annotations

from typing import Literal

# JPEG segments that carry metadata: APP1 (Exif, XMP), APP13 (IPTC), COM (comments).
_METADATA_MARKERS = frozenset({0xE1, 0xED, 0xFE})
_EXIF = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG chunks that carry metadata: Exif, the three kinds of text, the modification time.
_PNG_METADATA = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})
_WEBP_METADATA = frozenset({b"EXIF", b"XMP "})
_VP8X_EXIF_AND_XMP_FLAGS = 0x08 | 0x04


def sniff_image(head: bytes) -> str | None:
    """The image type of a file from its first bytes, or None if it is not an allowed one."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG without Exif/XMP/IPTC/comment segments, save its orientation; None if broken."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(b"\xff\xd8")
    header_end = len(out)  # where the kept orientation goes: after SOI and a leading JFIF APP0
    orientation: int | None = None
    index = 2
    while index + 2 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte before a marker
            index += 1
            continue
        if marker == 0xDA:  # start of scan: the compressed image follows to the end
            out += data[index:]
            if orientation is not None and orientation != 1:
                out[header_end:header_end] = orientation_segment(orientation)
            return bytes(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            out += data[index : index + 2]
            index += 2
            continue
        if index + 4 > len(data):
            return None
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        end = index + 2 + length
        if length < 2 or end > len(data):
            return None
        if marker == 0xE1 and orientation is None:
            orientation = exif_orientation(data[index + 4 : end])
        if marker not in _METADATA_MARKERS:
            out += data[index:end]
            if marker == 0xE0 and header_end == 2:
                header_end = len(out)
        index = end
    return None


def exif_orientation(payload: bytes) -> int | None:
    """The Orientation (1–8) in an APP1 segment's payload, or None if it has none."""
    if not payload.startswith(_EXIF):
        return None
    tiff = payload[len(_EXIF) :]
    order: Literal["little", "big"]
    if tiff[:2] == b"II":
        order = "little"
    elif tiff[:2] == b"MM":
        order = "big"
    else:
        return None
    first_ifd = int.from_bytes(tiff[4:8], order)
    if first_ifd + 2 > len(tiff):
        return None
    for number in range(int.from_bytes(tiff[first_ifd : first_ifd + 2], order)):
        entry = first_ifd + 2 + 12 * number
        if entry + 12 > len(tiff):
            return None
        if int.from_bytes(tiff[entry : entry + 2], order) == _ORIENTATION_TAG:
            value = int.from_bytes(tiff[entry + 8 : entry + 10], order)
            return value if 1 <= value <= 8 else None
    return None


def orientation_segment(orientation: int) -> bytes:
    """An APP1 Exif segment that holds the Orientation tag and nothing else."""
    entry = (
        _ORIENTATION_TAG.to_bytes(2, "big")
        + (3).to_bytes(2, "big")  # type SHORT
        + (1).to_bytes(4, "big")  # one value
        + orientation.to_bytes(2, "big")
        + b"\x00\x00"  # padding of the 4-byte value field
    )
    tiff = b"MM\x00\x2a" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry
    payload = _EXIF + tiff + (0).to_bytes(4, "big")  # no next IFD
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def without_metadata(content_type: str, data: bytes) -> bytes | None:
    """The image without its metadata; None if its structure is broken."""
    if content_type == "image/jpeg":
        return strip_jpeg_metadata(data)
    if content_type == "image/png":
        return strip_png_metadata(data)
    if content_type == "image/webp":
        return strip_webp_metadata(data)
    return None


def strip_png_metadata(data: bytes) -> bytes | None:
    """The PNG without Exif, text and time chunks; None if its structure is broken."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    out = bytearray(_PNG_SIGNATURE)
    index = len(_PNG_SIGNATURE)
    while index + 12 <= len(data):
        length = int.from_bytes(data[index : index + 4], "big")
        kind = data[index + 4 : index + 8]
        end = index + 12 + length  # length, type, data, CRC
        if end > len(data):
            return None
        if kind not in _PNG_METADATA:
            out += data[index:end]
        if kind == b"IEND":
            return bytes(out)
        index = end
    return None


def strip_webp_metadata(data: bytes) -> bytes | None:
    """The WebP without its EXIF and XMP chunks (and their flags); None if it is broken."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    chunks = bytearray()
    index = 12
    while index + 8 <= end:
        kind = data[index : index + 4]
        size = int.from_bytes(data[index + 4 : index + 8], "little")
        stop = index + 8 + size + (size & 1)  # chunks are padded to an even size
        if stop > end:
            return None
        chunk = bytearray(data[index:stop])
        if kind == b"VP8X" and size >= 1:
            chunk[8] &= ~_VP8X_EXIF_AND_XMP_FLAGS & 0xFF
        if kind not in _WEBP_METADATA:
            chunks += chunk
        index = stop
    if index != end or not chunks:
        return None
    return b"RIFF" + (4 + len(chunks)).to_bytes(4, "little") + b"WEBP" + bytes(chunks)
