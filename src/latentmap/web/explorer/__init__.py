"""The latent explorer's HTTP API: thin routes over :class:`latentmap.spaces.LatentSpace`,
as routers the app assembles: the maps (``maps``) and one module per experiment
(``experiments/``, registered in one table the page's grids and the widget read).

Several embeddings can be served at once (``/api/spaces/{space}/...``) so the page can
switch between, say, a VAE and an AE of the same data.
"""

from fastapi import FastAPI

from ...spaces.space import LatentSpace
from ..common import new_app
from ..security import Policy
from ..typeface_routes import add_typeface_routes
from . import maps
from .experiments import EXPERIMENTS
from .spaces import space_at


def create_app(spaces: list[LatentSpace], policy: Policy | None = None) -> FastAPI:
    app = new_app("latentmap explorer", "Explore the latent space of a trained autoencoder.", policy)
    for one in spaces:
        one.prepare()  # heavy derived data now, in the background: no GET ever starts it
    app.state.spaces = spaces
    app.include_router(maps.router)
    for experiment in EXPERIMENTS.values():
        app.include_router(experiment.router)
    add_typeface_routes(app, lambda space_id: space_at(spaces, space_id))
    return app
