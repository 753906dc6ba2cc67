"""The kernel lab: the sandbox's rules loaded into a miniature node built from network namespaces, carrying real traffic.

``session.Lab`` is the entry point (up, attach, scale/replace, down); ``measure.curl`` makes
real connections and puts the kernel's counters beside the evaluator's prediction. Nothing
here changes the caller's own network namespace (see ``system``).
"""
