from flask import Blueprint

bp = Blueprint("public_menu", __name__, url_prefix="/clinics/<slug>")
