from flask import Blueprint

bp = Blueprint("menu", __name__, url_prefix="/c/<clinic_slug>/menu")
