"""`python -m core.data.decode`: decode one uploaded image from stdin, write it reduced (PNG) to stdout.

Used by core.upload for large non-JPEG uploads, so the full-size bitmap (up to 160 MB for a
40-megapixel RGBA PNG) lives only in this short-lived process, never in the web server. The image
was validated (format, size) by the caller; this process gets an address-space limit on top.
"""

from __future__ import annotations

import io
import resource
import sys

ADDRESS_SPACE_LIMIT = 1536 * 1024 * 1024


def main() -> int:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    from core.data.upload import open_checked

    raw = sys.stdin.buffer.read()
    try:
        img = open_checked(raw)
    except (ValueError, MemoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = io.BytesIO()
    keep = img if img.mode in ("L", "LA", "RGB", "RGBA") else img.convert("RGBA")
    keep.save(out, format="PNG", compress_level=1)
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
