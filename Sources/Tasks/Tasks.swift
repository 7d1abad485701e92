// The `Tasks` module: see DESIGN.md's module map.
