"""Speech for the audio mode (ADA 2010 section 707): a port and its adapters.

:class:`~kiosk.speech.port.Voice` is the port: one utterance said, blocking, until it is
done or asked to stop. :class:`~kiosk.speech.speaker.Speaker` puts a voice on a worker
thread, so saying something never blocks the engine or the screens, and a new utterance
interrupts the one being said. Adapters: espeak-ng (:mod:`kiosk.speech.espeak`), a
recorder that writes each utterance to a WAV file (the tests and the demo), and a silent
one.
"""

from kiosk.speech.jack import EmulatedJack, HeadphoneJack
from kiosk.speech.port import NullVoice, Utterance, Voice
from kiosk.speech.speaker import Speaker

__all__ = ["EmulatedJack", "HeadphoneJack", "NullVoice", "Speaker", "Utterance", "Voice"]
