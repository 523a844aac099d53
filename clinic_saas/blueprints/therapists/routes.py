from flask import Blueprint

bp = Blueprint("therapists", __name__, url_prefix="/c/<clinic_slug>/staff/therapists")
