// Server module: transport (see DESIGN.md). The real sources land once Authority and Policy exist.
