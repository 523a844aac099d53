from flask import Blueprint

bp = Blueprint("packages", __name__, url_prefix="/c/<clinic_slug>/menu/offers")
