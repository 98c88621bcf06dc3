// Authority module: see ../shared/DESIGN.md
