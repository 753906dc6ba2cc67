"""Packet tracing through netfilter: rule matching and indexing, the node network, and the tracer that drives whole connections."""
