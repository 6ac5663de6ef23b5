"""Flask extensions, created unbound and bound to the app in ``create_app``."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from traceability.core.database import Base
from traceability.core.replica import RoutingSession

# RoutingSession: the public pages read from DATABASE_REPLICA_URL when it is set (traceability.core.replica).
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
if TYPE_CHECKING:
    # The base class of every model. A type checker takes no attribute of an
    # instance as a base class; to it models derive from Base, which db.Model
    # is at run time with Flask-SQLAlchemy's mixins (table name, bind key) added.
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
