"""CLIP training: losses, the loop, checkpoints."""
