"""Lesson and quiz content: schema, loading with file:line errors, and checks."""
