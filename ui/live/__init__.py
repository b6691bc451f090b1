"""The Live webcam page's parts: the camera check, the WebRTC session, the stats panel and the per-stage
profile of the load test."""
