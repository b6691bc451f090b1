"""Video files: reading frames (:mod:`.reader`), analysing every face over time (:mod:`.analyse`, giving a
:class:`~fer.video.result.VideoAnalysis`) and writing the annotated copy (:mod:`.writer`)."""
