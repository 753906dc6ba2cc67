"""Sandbox exercises: a prepared cluster, a task, and checks run on the sandbox's state, rules and traces."""
