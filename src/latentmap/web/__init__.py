"""The web apps: the latent explorer and the typeface clustering app, FastAPI servers over
the plain-Python core (``explore``, ``typefaces``) with one security policy, and static
ES-module front ends. Reads embedding files and datasets; produces pages, images, font sets.
"""
