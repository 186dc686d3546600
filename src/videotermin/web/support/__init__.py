"""The support desk: look a participant up by support code, watch their journey live."""
