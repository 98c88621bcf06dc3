// DNSWire module: see ../shared/DESIGN.md
