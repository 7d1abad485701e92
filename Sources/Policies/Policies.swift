// The `Policies` module: see DESIGN.md's module map.
