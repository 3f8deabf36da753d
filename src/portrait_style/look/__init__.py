"""The look family: photographic looks (colour, tone, light) learned from unpaired examples."""
