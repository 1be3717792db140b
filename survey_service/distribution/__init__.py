"""Links with unguessable tokens, one per school × group (or county-level group), and their QR codes."""
