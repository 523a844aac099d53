from flask import Blueprint

bp = Blueprint("appointments", __name__, url_prefix="/c/<clinic_slug>/appointments")
