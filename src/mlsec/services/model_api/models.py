"""Tables of the model API's own database."""

from sqlalchemy.orm import DeclarativeBase

from mlsec.core.database import new_metadata
from mlsec.serving.prediction_log import prediction_log_table


class Base(DeclarativeBase):
    metadata = new_metadata()


prediction_log = prediction_log_table(Base.metadata)
