"""The Clio layer: what is Clio's and not in the spec: OAuth (:mod:`.oauth`, :mod:`.oauth_http`),
rate limits (:mod:`.ratelimit`) and webhooks (:mod:`.webhooks`)."""
