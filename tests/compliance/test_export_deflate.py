"""The export's deflate over several threads makes one ordinary deflate stream: any inflater
reads back exactly the bytes, across block boundaries that cut rows (and matches from the
previous block), at the size one zlib stream at the same level gives."""

from __future__ import annotations

import zlib

from compliance.licensee.deflate import BlockDeflate


def test_blocks_join_into_one_deflate_stream_of_the_same_data():
    rows = b"".join(
        b'{"id":%d,"amount_minor":%d,"kind":"topup"}\n' % (index, index % 900)
        for index in range(60_000)
    )
    deflate = BlockDeflate(level=6)
    written = b"".join(
        deflate.compress(rows[start : start + 70_001]) for start in range(0, len(rows), 70_001)
    )
    written += deflate.compress(b"") + deflate.flush()
    assert zlib.decompress(written, -15) == rows
    assert len(written) < 1.05 * len(zlib.compress(rows, 6))


def test_an_empty_entry_is_an_empty_stream():
    deflate = BlockDeflate(level=6)
    assert zlib.decompress(deflate.flush(), -15) == b""
