"""Callrix: the composition root (settings, URLconfs, job broker, the `callrix` command)."""
