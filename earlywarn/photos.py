"""Photos attached to reports: checked, stripped of metadata, encrypted at rest outside the database.

A phone photo carries the informant's GPS position, the phone model and the time in its EXIF block. The
image is decoded and re-encoded from pixels only, so nothing of the original file survives but the picture;
it is then encrypted (Fernet) and written under ``data_dir/photos`` with a random name.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from earlywarn.privacy import Vault

MAX_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 3
MAX_SIDE = 2000
ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
Image.MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded


class PhotoError(ValueError):
    """A photo that cannot be accepted (Chinese message)."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes  # JPEG, no metadata
    width: int
    height: int


def clean_photo(raw: bytes, filename: str = "") -> CleanPhoto:
    if not raw:
        raise PhotoError(f"照片“{filename}”是空文件")
    if len(raw) > MAX_BYTES:
        raise PhotoError(f"照片“{filename}”超过 {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.format not in ALLOWED:
                raise PhotoError(f"“{filename}”不是 JPEG、PNG 或 WebP 照片")
            img = ImageOps.exif_transpose(img)  # keep the picture upright once the orientation tag is gone
            img = img.convert("RGB")
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            pixels = Image.new("RGB", img.size)
            pixels.paste(img)  # a fresh image: no info dict, no EXIF, no ICC, no XMP
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        if isinstance(exc, PhotoError):
            raise
        raise PhotoError(f"“{filename}”无法作为照片打开") from None
    out = io.BytesIO()
    pixels.save(out, format="JPEG", quality=85)
    return CleanPhoto(out.getvalue(), pixels.width, pixels.height)


def store_photo(photo: CleanPhoto, *, vault: Vault, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16)
    (folder / f"{name}.enc").write_bytes(vault.encrypt_bytes(photo.data))
    return name


def read_photo(name: str, *, vault: Vault, folder: Path) -> bytes:
    if not name.isalnum():
        raise FileNotFoundError(name)
    return vault.decrypt_bytes((folder / f"{name}.enc").read_bytes())
