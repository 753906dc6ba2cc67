"""``python -m kproxy_tutor``."""

from kproxy_tutor.entry import main

if __name__ == "__main__":
    main()
