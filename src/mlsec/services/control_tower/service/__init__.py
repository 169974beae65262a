"""The control tower's logic: the snapshot and its cache, the views read from it, monitoring, drift."""
