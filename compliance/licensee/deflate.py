"""Deflate over several cores for the export's ZIP entries, in the manner of pigz: the data is
cut into blocks, each deflated on its own thread with the previous 32 KiB as its dictionary
and ended on a byte boundary (Z_SYNC_FLUSH), so the blocks joined in order are one ordinary
deflate stream at the same level. zlib releases the interpreter lock while it works."""

from __future__ import annotations

import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

WINDOW = 32 * 1024  # deflate's look-back


def _deflate_block(data: bytes, primer: bytes, level: int) -> bytes:
    if primer:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=primer)
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class BlockDeflate:
    """zlib's compressor interface (`compress`, `flush`) for raw deflate, as zipfile uses it."""

    def __init__(self, level: int, workers: int = 2) -> None:
        self._level = level
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export-deflate")
        self._pending: deque[Future[bytes]] = deque()
        self._ahead = workers + 1  # blocks in flight; memory stays a few blocks
        self._primer = b""

    def compress(self, data: bytes) -> bytes:
        block = bytes(data)
        if not block:
            return b""
        self._pending.append(self._pool.submit(_deflate_block, block, self._primer, self._level))
        self._primer = (self._primer + block)[-WINDOW:]
        done = []
        while len(self._pending) > self._ahead or (self._pending and self._pending[0].done()):
            done.append(self._pending.popleft().result())
        return b"".join(done)

    def flush(self) -> bytes:
        done = [future.result() for future in self._pending]
        self._pending.clear()
        self._pool.shutdown()
        # An empty final block ends the stream.
        done.append(zlib.compressobj(self._level, zlib.DEFLATED, -15).flush())
        return b"".join(done)
