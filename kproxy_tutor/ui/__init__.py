"""Terminal presentation: console factory, glyphs, prompts and rich renderables."""
