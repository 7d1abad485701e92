// The `Autograd` module: see DESIGN.md's module map.
