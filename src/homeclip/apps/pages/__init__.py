"""One module per page of the web app; each exposes PAGE (a `web.Page`)."""
