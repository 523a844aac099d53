from flask import Blueprint

bp = Blueprint("sales", __name__, url_prefix="/c/<clinic_slug>/sales")
