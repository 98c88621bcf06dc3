// GeoIP module: see ../shared/DESIGN.md
