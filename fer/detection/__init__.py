"""Faces in an image: the Haar cascades (:mod:`.haar`), the detector and its settings (:mod:`.detector`), and
following known faces from frame to frame (:mod:`.follow`)."""
