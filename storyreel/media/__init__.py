"""Media files: ffmpeg, audio, subtitles and the quality figures of a finished film."""
