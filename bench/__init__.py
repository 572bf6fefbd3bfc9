"""Benchmarks: figures printed and saved, never asserted (speed is not a test)."""
