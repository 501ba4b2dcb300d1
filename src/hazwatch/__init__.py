"""hazwatch: industrial internet + safety production supervision for hazardous plants."""

__version__ = "0.1.0"
