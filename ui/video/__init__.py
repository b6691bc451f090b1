"""The Video page's parts: the background analysis job (:mod:`.job`) and what the page draws (:mod:`.view`)."""
