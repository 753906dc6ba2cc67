"""The sandbox shell's engine: command grammar, parser, completion and the session (no terminal code here)."""
