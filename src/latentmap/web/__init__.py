"""The web apps: FastAPI servers over the plain-Python core, static ES-module front ends."""
