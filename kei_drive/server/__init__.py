"""Starting the app: frontend toolchain, the Reflex process, and optional TLS."""
