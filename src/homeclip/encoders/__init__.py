"""Sensor encoders (Chronos backbone + head, statistics, Transformer) and the frozen text encoder."""
