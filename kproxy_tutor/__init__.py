"""kproxy-tutor: an interactive terminal tutor that teaches how kube-proxy works."""

__version__ = "0.1.0"
