"""events_app: an events calendar with iCal feeds and RSVPs for advocacy organisations."""

__version__ = "0.1.0"
