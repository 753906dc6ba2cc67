"""Tests of the self-check quiz engine."""
