"""What travels: the XML and JSON codecs (one message tree for both), the typed requests parsed
from trees (`messages`) and the result trees built from results (`results`). No I/O."""
