// Policy module: see ../shared/DESIGN.md
